#pragma once
// What `musicfsctl metrics` and the [metrics] textfile report: the daemon's figures
// gathered as metric families (lib/util/prometheus_text.h renders them). The family
// names and labels are the documented interface (musicfsctl(1), METRICS): rename one
// only as a breaking change, since dashboards and alerts name them.
#include <string>
#include <vector>

#include "util/prometheus_text.h"

namespace musicfs {

class Daemon;

// Never waits for an index or an origin: a scrape must answer while an origin hangs.
std::vector<MetricFamily> collect_metrics(Daemon& daemon);

// collect_metrics rendered in the exposition format.
Result<std::string> metrics_exposition(Daemon& daemon);

}  // namespace musicfs
