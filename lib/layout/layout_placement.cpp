#include "layout/layout_placement.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "layout/name_sanitizer.h"
#include "layout/path_claims.h"
#include "util/virtual_path.h"

namespace musicfs {

namespace {

// "/A/b.flac" -> "flac"; a name that starts with its only dot has no extension, as
// the template's title fallback reads it (".hidden" is all stem).
std::string extension_of(std::string_view path) {
  std::string_view name = split_parent(path).second;
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return std::string(name.substr(dot + 1));
}

// Two rounds, each in the order of `wanted` (by source path): first every file that
// finds its own path free takes it, then the others are numbered. So a track whose
// own title reads "Same (2)" keeps that name rather than lose it to a numbered twin.
void claim_all(PathClaims& claims, std::vector<PlacedFile> wanted, std::vector<PlacedFile>& placed) {
  std::vector<size_t> numbered;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (claims.claim_exact(wanted[i].vpath)) {
      placed.push_back(std::move(wanted[i]));
    } else {
      numbered.push_back(i);
    }
  }
  for (size_t i : numbered) {
    wanted[i].vpath = claims.claim_numbered(wanted[i].vpath);
    placed.push_back(std::move(wanted[i]));
  }
}

std::vector<PlacedFile> render_tracks(const LayoutTemplate& tmpl, const std::vector<LayoutSource>& sources) {
  std::vector<PlacedFile> wanted;
  for (size_t i = 0; i < sources.size(); ++i) {
    const LayoutSource& s = sources[i];
    if (!s.is_audio || !s.tags) continue;
    LayoutTrack track;
    static_cast<TrackTags&>(track) = *s.tags;
    track.ext = extension_of(s.path);
    track.origin_path = s.path;
    wanted.push_back({tmpl.render(track), i, true});
  }
  return wanted;
}

// Path-tree directory -> the layout directories its shown tracks went to, sorted.
using AlbumDirs = std::unordered_map<std::string_view, std::vector<std::string>>;

AlbumDirs album_dirs_of(const std::vector<PlacedFile>& tracks, const std::vector<LayoutSource>& sources) {
  AlbumDirs dirs;
  for (const PlacedFile& t : tracks) {
    dirs[split_parent(sources[t.source].path).first].emplace_back(split_parent(t.vpath).first);
  }
  for (auto& [dir, albums] : dirs) {
    std::sort(albums.begin(), albums.end());
    albums.erase(std::unique(albums.begin(), albums.end()), albums.end());
  }
  return dirs;
}

// A non-audio file goes with the tracks of its own directory, else with those of its
// nearest ancestor that has some, at its path relative to that ancestor
// ("/X/Album/Scans/back.jpg" with tracks in /X/Album -> "<album dir>/Scans/back.jpg").
std::vector<PlacedFile> follow_albums(const AlbumDirs& album_dirs, const std::vector<LayoutSource>& sources) {
  std::vector<PlacedFile> wanted;
  for (size_t i = 0; i < sources.size(); ++i) {
    const std::string& path = sources[i].path;
    if (sources[i].is_audio) continue;
    std::string_view dir = split_parent(path).first;
    auto found = album_dirs.find(dir);
    while (found == album_dirs.end() && dir != "/") {
      dir = split_parent(dir).first;
      found = album_dirs.find(dir);
    }
    if (found == album_dirs.end()) continue;
    std::string relative;
    for_each_component(std::string_view(path).substr(dir.size()), [&](std::string_view part, size_t) {
      relative += '/';
      relative += sanitize_name(part);
      return true;
    });
    for (const std::string& album : found->second) {
      wanted.push_back({album == "/" ? relative : album + relative, i, false});
    }
  }
  return wanted;
}

}  // namespace

std::vector<PlacedFile> place_sources(const LayoutTemplate& tmpl, const std::vector<LayoutSource>& sources) {
  PathClaims claims;
  std::vector<PlacedFile> placed;
  // Tracks are what the layout is for, so they take their names first.
  claim_all(claims, render_tracks(tmpl, sources), placed);
  AlbumDirs album_dirs = album_dirs_of(placed, sources);
  claim_all(claims, follow_albums(album_dirs, sources), placed);
  return placed;
}

}  // namespace musicfs
