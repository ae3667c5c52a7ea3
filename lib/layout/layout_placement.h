#pragma once
// Where each file of the path tree appears in the layout tree (layout_tree.h tells
// the rules and why). Pure: the same sources always give the same places.
#include <cstddef>
#include <string>
#include <vector>

#include "layout/layout_source.h"
#include "layout/layout_template.h"

namespace musicfs {

struct PlacedFile {
  std::string vpath;
  size_t source = 0;  // index into the sources
  bool is_track = false;
};

// `sources` are sorted by path, no path twice, files only. A non-audio file placed in
// several album directories is placed once for each.
std::vector<PlacedFile> place_sources(const LayoutTemplate& tmpl, const std::vector<LayoutSource>& sources);

}  // namespace musicfs
