#pragma once
// Usage errors as musicfsctl(1) promises them: one line on stderr that starts
// "musicfsctl:", then exit 2. CLI11's own report is two lines ("...\nRun with --help
// for more information.") and names no command.
#include <CLI/CLI.hpp>

namespace musicfs::cli {

// Prints `e` (or, when it is --help/--version, what CLI11 prints for those) and
// returns the exit code: 0 for --help/--version, kExitUsage for every error.
int report_parse_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv);

}  // namespace musicfs::cli
