// The tag reader over real files made by the encoders Debian packages (flac, lame,
// oggenc, opusenc), opened through a LocalOrigin as the daemon opens them.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>

#include "../unit_support.h"
#include "origins/local_origin.h"
#include "tags/tag_reader.h"

using namespace musicfs;
using Catch::Contains;

namespace {

// The encoders are test dependencies (scripts/install-deps.sh): missing is a failure.
void require_tools(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    INFO(name << " is not installed; scripts/install-deps.sh installs it");
    REQUIRE(std::system((std::string("command -v ") + name + " >/dev/null").c_str()) == 0);
  }
}

void sh(const std::string& cmd) {
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// `seconds` of a stereo 44.1 kHz sine as WAV, the encoders' input.
std::string wav(const musicfs::test::TempDir& dir, int seconds) {
  const std::string path = dir / "in.wav";
  sh("sox -n -r 44100 -c 2 -b 16 '" + path + "' synth " + std::to_string(seconds) + " sine 440");
  return path;
}

struct Read {
  TrackTags tags;
  TagReadStats stats;
  uint64_t size = 0;
};

Result<TrackTags> read_at(const musicfs::test::TempDir& dir, const std::string& rel, TagReadStats* stats,
                          uint64_t* size_out = nullptr) {
  LocalOrigin origin("o", "local", dir.path());
  auto attr = origin.stat("/" + rel, deadline_in(Millis(5000)));
  REQUIRE(attr.ok());
  if (size_out) *size_out = attr->size;
  auto file = origin.open("/" + rel, deadline_in(Millis(5000)));
  REQUIRE(file.ok());
  return read_tags(**file, attr->size, rel, deadline_in(Millis(5000)), stats);
}

Read read_ok(const musicfs::test::TempDir& dir, const std::string& rel) {
  Read r;
  auto t = read_at(dir, rel, &r.stats, &r.size);
  INFO((t.ok() ? std::string() : t.error().message));
  REQUIRE(t.ok());
  r.tags = *t;
  return r;
}

// An origin file that fails every read from `fail_at` on.
class FailingFile : public OriginFile {
 public:
  FailingFile(std::unique_ptr<OriginFile> inner, uint64_t fail_at) : inner_(std::move(inner)), fail_at_(fail_at) {}
  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline d) override {
    if (offset + buf.size() > fail_at_) return make_error(ErrorCode::kTimedOut, "origin o: read timed out");
    return inner_->read(offset, buf, d);
  }

 private:
  std::unique_ptr<OriginFile> inner_;
  uint64_t fail_at_;
};

}  // namespace

TEST_CASE("has_tag_format knows the formats by extension", "[tags]") {
  for (const char* n : {"a.flac", "/x/B.FLAC", "c.mp3", "d.ogg", "e.oga", "f.opus", "g.m4a", "h.mp4", "i.m4b"}) {
    CHECK(has_tag_format(n));
  }
  for (const char* n : {"cover.jpg", "album.cue", "rip.log", "flac", "/dir.flac/file", "noext"}) CHECK_FALSE(has_tag_format(n));
}

TEST_CASE("tags of a FLAC file with STREAMINFO MD5 and totals", "[tags]") {
  require_tools({"sox", "flac", "metaflac"});
  musicfs::test::TempDir dir;
  const std::string in = wav(dir, 2);
  sh("flac -s -f '" + in + "' -o '" + (dir / "a.flac") + "'");
  sh("metaflac --set-tag='ARTIST=Aurora Lane' --set-tag='ALBUMARTIST=Various' --set-tag='ALBUM=First Light' "
     "--set-tag='TITLE=Song 1' --set-tag=TRACKNUMBER=3/12 --set-tag=DISCNUMBER=1/2 --set-tag=DATE=2019 "
     "--set-tag=GENRE=Ambient --set-tag='TITLE=Song \xc3\xa9' '" + (dir / "a.flac") + "'");
  auto r = read_ok(dir, "a.flac");
  CHECK(r.tags.artist == "Aurora Lane");
  CHECK(r.tags.albumartist == "Various");
  CHECK(r.tags.album == "First Light");
  CHECK_THAT(r.tags.title, Contains("Song"));
  CHECK(r.tags.track == 3);
  CHECK(r.tags.track_total == 12);
  CHECK(r.tags.disc == 1);
  CHECK(r.tags.disc_total == 2);
  CHECK(r.tags.year == 2019);
  CHECK(r.tags.genre == "Ambient");
  CHECK(r.tags.sample_rate == 44100);
  CHECK(r.tags.channels == 2);
  CHECK(r.tags.duration_ms >= 1900);
  CHECK(r.tags.duration_ms <= 2100);
  // flac computes the MD5 of the decoded audio; metaflac prints the same.
  auto md5 = std::string(32, '?');
  sh("metaflac --show-md5sum '" + (dir / "a.flac") + "' > '" + (dir / "md5") + "'");
  std::ifstream(dir / "md5") >> md5;
  CHECK(r.tags.flac_md5 == md5);
}

TEST_CASE("tags of MP3 Ogg Vorbis and Opus files", "[tags]") {
  require_tools({"sox", "lame", "oggenc", "opusenc"});
  musicfs::test::TempDir dir;
  const std::string in = wav(dir, 2);
  sh("lame --quiet --tt 'Mp3 Title' --ta 'Mp3 Artist' --tl 'Mp3 Album' --ty 2001 --tn 4/9 --tg Rock "
     "--tv TPE2='Mp3 Band' --tv TPOS=2/3 '" + in + "' '" + (dir / "a.mp3") + "'");
  sh("oggenc -Q -a 'Ogg Artist' -l 'Ogg Album' -t 'Ogg Title' -N 5 -d 2002 -G Jazz -c ALBUMARTIST='Ogg Band' "
     "-c DISCNUMBER=1 '" + in + "' -o '" + (dir / "b.ogg") + "'");
  sh("opusenc --quiet --artist 'Opus Artist' --album 'Opus Album' --title 'Opus Title' --date 2003 --genre Pop "
     "--comment TRACKNUMBER=6 --comment ALBUMARTIST='Opus Band' '" + in + "' '" + (dir / "c.opus") + "'");

  auto mp3 = read_ok(dir, "a.mp3").tags;
  CHECK(mp3.artist == "Mp3 Artist");
  CHECK(mp3.albumartist == "Mp3 Band");
  CHECK(mp3.album == "Mp3 Album");
  CHECK(mp3.title == "Mp3 Title");
  CHECK(mp3.track == 4);
  CHECK(mp3.track_total == 9);
  CHECK(mp3.disc == 2);
  CHECK(mp3.disc_total == 3);
  CHECK(mp3.year == 2001);
  CHECK(mp3.genre == "Rock");
  CHECK(mp3.sample_rate == 44100);
  CHECK(mp3.flac_md5.empty());

  auto ogg = read_ok(dir, "b.ogg").tags;
  CHECK(ogg.artist == "Ogg Artist");
  CHECK(ogg.albumartist == "Ogg Band");
  CHECK(ogg.title == "Ogg Title");
  CHECK(ogg.track == 5);
  CHECK(ogg.disc == 1);
  CHECK(ogg.year == 2002);
  CHECK(ogg.duration_ms >= 1900);

  auto opus = read_ok(dir, "c.opus").tags;
  CHECK(opus.artist == "Opus Artist");
  CHECK(opus.albumartist == "Opus Band");
  CHECK(opus.album == "Opus Album");
  CHECK(opus.track == 6);
  CHECK(opus.year == 2003);
  CHECK(opus.channels == 2);
}

TEST_CASE("reading tags fetches a small part of a long file", "[tags]") {
  require_tools({"sox", "flac", "lame"});
  musicfs::test::TempDir dir;
  const std::string in = wav(dir, 60);
  sh("flac -s -f '" + in + "' -o '" + (dir / "long.flac") + "'");
  sh("lame --quiet --tt T --ta A '" + in + "' '" + (dir / "long.mp3") + "'");
  for (const char* name : {"long.flac", "long.mp3"}) {
    auto r = read_ok(dir, name);
    INFO(name << ": " << r.stats.bytes_read << " of " << r.size << " bytes in " << r.stats.requests << " reads");
    CHECK(r.size > 500'000);
    CHECK(r.stats.bytes_read * 4 < r.size);
  }
}

TEST_CASE("an origin read that fails fails the tag read and a file that is no audio is invalid", "[tags]") {
  require_tools({"sox", "flac"});
  musicfs::test::TempDir dir;
  sh("flac -s -f '" + wav(dir, 2) + "' -o '" + (dir / "a.flac") + "'");
  LocalOrigin origin("o", "local", dir.path());
  auto attr = origin.stat("/a.flac", deadline_in(Millis(5000)));
  REQUIRE(attr.ok());
  auto inner = origin.open("/a.flac", deadline_in(Millis(5000)));
  REQUIRE(inner.ok());
  FailingFile failing(std::move(*inner), 0);
  auto failed = read_tags(failing, attr->size, "/a.flac", deadline_in(Millis(5000)));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == ErrorCode::kTimedOut);
  CHECK_THAT(failed.error().message, Contains("/a.flac: reading tags: origin o: read timed out"));

  dir.write("junk.flac", std::string(100'000, 'x'));
  auto junk = read_at(dir, "junk.flac", nullptr);
  REQUIRE_FALSE(junk.ok());
  CHECK(junk.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(junk.error().message, Contains("junk.flac: not a valid flac file"));

  dir.write("empty.mp3", "");
  CHECK_FALSE(read_at(dir, "empty.mp3", nullptr).ok());
  auto cover = read_at(dir, "a.flac", nullptr);
  CHECK(cover.ok());
}
