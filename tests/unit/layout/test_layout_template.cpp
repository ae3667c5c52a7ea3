#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <utility>

#include "layout/layout_template.h"
#include "layout/name_sanitizer.h"
#include "layout/layout_track.h"

using namespace musicfs;

namespace {

constexpr const char* kDefaultLayout = "{albumartist}/{album}/{track:02} - {title}.{ext}";

LayoutTemplate parsed(std::string_view text) {
  auto t = LayoutTemplate::parse(text);
  INFO(text);
  REQUIRE(t.ok());
  return std::move(t).value();
}

std::string render(std::string_view text, const LayoutTrack& tags) { return parsed(text).render(tags); }

// The message of the error parse() returns; fails the test if the template parses.
std::string parse_error(std::string_view text) {
  auto t = LayoutTemplate::parse(text);
  INFO(text);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == ErrorCode::kInvalidArgument);
  return t.error().message;
}

LayoutTrack full_tags() {
  LayoutTrack t;
  t.artist = "Track Artist";
  t.albumartist = "Album Artist";
  t.album = "The Album";
  t.title = "The Title";
  t.genre = "Jazz";
  t.track = 7;
  t.disc = 2;
  t.disc_total = 3;
  t.year = 1999;
  t.ext = "flac";
  t.origin_path = "/Music/a/07 - file.flac";
  return t;
}

// Bytes of valid UTF-8: "é" (2), "€" (3), "𝄞" (4).
const std::string kTwoByte = "\xC3\xA9";
const std::string kThreeByte = "\xE2\x82\xAC";
const std::string kFourByte = "\xF0\x9D\x84\x9E";

}  // namespace

// ---- rendering -------------------------------------------------------------------

TEST_CASE("layout renders the issue's template from full tags", "[layout]") {
  CHECK(render(kDefaultLayout, full_tags()) == "/Album Artist/The Album/07 - The Title.flac");
}

TEST_CASE("layout renders every field", "[layout]") {
  auto tags = full_tags();
  CHECK(render("{artist}", tags) == "/Track Artist");
  CHECK(render("{albumartist}", tags) == "/Album Artist");
  CHECK(render("{album}", tags) == "/The Album");
  CHECK(render("{title}", tags) == "/The Title");
  CHECK(render("{genre}", tags) == "/Jazz");
  CHECK(render("{track}", tags) == "/7");
  CHECK(render("{disc}", tags) == "/2");
  CHECK(render("{year}", tags) == "/1999");
  CHECK(render("x.{ext}", tags) == "/x.flac");
  // The origin path's '/' never make directories.
  CHECK(render("{origin_path}", tags) == "/_Music_a_07 - file.flac");
}

TEST_CASE("layout albumartist falls back to artist", "[layout]") {
  auto tags = full_tags();
  tags.albumartist.clear();
  CHECK(render("{albumartist}/{title}", tags) == "/Track Artist/The Title");
}

TEST_CASE("layout title falls back to the origin file's stem", "[layout]") {
  auto tags = full_tags();
  tags.title.clear();
  CHECK(render("{title}", tags) == "/07 - file");
  tags.origin_path = "/A/b.tar.gz";
  CHECK(render("{title}", tags) == "/b.tar");
  tags.origin_path = "/A/noext";
  CHECK(render("{title}", tags) == "/noext");
  // A leading dot starts no extension; the name's own dot is then made safe.
  tags.origin_path = "/A/.hidden";
  CHECK(render("{title}", tags) == "/_hidden");
  tags.origin_path = "b.flac";
  CHECK(render("{title}", tags) == "/b");
}

TEST_CASE("layout empty text fields print their defaults", "[layout]") {
  LayoutTrack tags;  // nothing tagged, no origin path
  CHECK(render("{artist}", tags) == "/Unknown Artist");
  CHECK(render("{albumartist}", tags) == "/Unknown Artist");
  CHECK(render("{album}", tags) == "/Unknown Album");
  CHECK(render("{title}", tags) == "/Unknown Title");
  CHECK(render("{genre}", tags) == "/Unknown Genre");
  CHECK(render("x{ext}", tags) == "/x");
  CHECK(render("x{origin_path}", tags) == "/x");
  CHECK(render(kDefaultLayout, tags) == "/Unknown Artist/Unknown Album/00 - Unknown Title.");
}

TEST_CASE("layout empty numbers print zero padded as asked", "[layout]") {
  LayoutTrack tags;
  CHECK(render("{track}", tags) == "/0");
  CHECK(render("{track:02}", tags) == "/00");
  CHECK(render("{disc}", tags) == "/0");
  CHECK(render("{disc:03}", tags) == "/000");
  CHECK(render("{year}", tags) == "/0000");
  CHECK(render("{year:02}", tags) == "/00");
}

TEST_CASE("layout negative numbers count as zero", "[layout]") {
  LayoutTrack tags;
  tags.track = -3;
  tags.year = -1;
  tags.disc = -2;
  CHECK(render("{track:02}", tags) == "/00");
  CHECK(render("{year}", tags) == "/0000");
  CHECK(render("{disc}", tags) == "/0");
  CHECK(render("{track|none}", tags) == "/none");
  CHECK(render("{year|none}", tags) == "/none");
}

TEST_CASE("layout zero-pads track disc and year to widths 1 to 9", "[layout]") {
  LayoutTrack tags;
  tags.track = 7;
  tags.disc = 3;
  tags.year = 812;
  CHECK(render("{track:01}", tags) == "/7");
  CHECK(render("{track:02}", tags) == "/07");
  CHECK(render("{track:09}", tags) == "/000000007");
  CHECK(render("{disc:03}", tags) == "/003");
  CHECK(render("{year}", tags) == "/0812");  // four digits unless told otherwise
  CHECK(render("{year:06}", tags) == "/000812");
  CHECK(render("{year:02}", tags) == "/812");  // a longer number is printed whole
  tags.track = 123;
  CHECK(render("{track:02}", tags) == "/123");
}

TEST_CASE("layout conditional disc prints nothing on a single-disc album", "[layout]") {
  LayoutTrack tags;
  tags.track = 1;
  tags.title = "T";
  const char* layout = "{disc|}{track:02} {title}";
  // Single-disc: disc and disc total both 1 or less.
  for (auto [disc, total] : std::initializer_list<std::pair<int, int>>{{0, 0}, {1, 0}, {0, 1}, {1, 1}}) {
    tags.disc = disc;
    tags.disc_total = total;
    INFO("disc " << disc << " of " << total);
    CHECK(render(layout, tags) == "/01 T");
  }
  tags.disc = 1;
  tags.disc_total = 2;
  CHECK(render(layout, tags) == "/101 T");
  tags.disc = 2;
  tags.disc_total = 0;  // a disc 2 without a total is still a set
  CHECK(render(layout, tags) == "/201 T");
  CHECK(render("{disc:02|}-{track:02}", tags) == "/02-01");
}

TEST_CASE("layout conditional fields print their text when empty", "[layout]") {
  LayoutTrack tags;
  tags.title = "T";
  CHECK(render("{genre|Misc}/{title}", tags) == "/Misc/T");
  CHECK(render("{track|xx} {title}", tags) == "/xx T");
  CHECK(render("{year|----} {title}", tags) == "/---- T");
  CHECK(render("{disc|single} {title}", tags) == "/single T");
  CHECK(render("{artist|} {title}", tags) == "/ T");
  CHECK(render("{album|No Album}/{title}", tags) == "/No Album/T");
  // A field with a value ignores the text.
  tags.genre = "Rock";
  tags.track = 4;
  CHECK(render("{genre|Misc}/{track:02|xx}", tags) == "/Rock/04");
}

TEST_CASE("layout emptiness is judged after the fallbacks", "[layout]") {
  LayoutTrack tags;
  tags.artist = "A";
  tags.origin_path = "/x/stem.mp3";
  CHECK(render("{albumartist|none}/{title|none}", tags) == "/A/stem");
  tags.artist.clear();
  tags.origin_path.clear();
  CHECK(render("{albumartist|none}/{title|none}", tags) == "/none/none");
}

TEST_CASE("layout leaves out a directory that renders to nothing", "[layout]") {
  LayoutTrack tags;
  tags.album = "Al";
  tags.track = 3;
  tags.ext = "ogg";
  const char* layout = "{album}/{disc|}/{track:02}.{ext}";
  CHECK(render(layout, tags) == "/Al/03.ogg");
  tags.disc = 2;
  tags.disc_total = 2;
  CHECK(render(layout, tags) == "/Al/2/03.ogg");
  // The file name itself is never left out: an empty one becomes "_".
  LayoutTrack none;
  CHECK(render("a/{genre|}", none) == "/a/_");
}

TEST_CASE("layout doubled braces are literal braces", "[layout]") {
  auto tags = full_tags();
  CHECK(render("{{{title}}}", tags) == "/{The Title}");
  CHECK(render("{{x}} {track}", tags) == "/{x} 7");
  CHECK(render("a{{/b}}{title}", tags) == "/a{/b}The Title");
}

TEST_CASE("layout keeps the text of the template", "[layout]") {
  CHECK(parsed(kDefaultLayout).text() == kDefaultLayout);
}

TEST_CASE("layout passes utf-8 tags through unchanged", "[layout]") {
  LayoutTrack tags;
  tags.albumartist = "Bj" + std::string("\xC3\xB6") + "rk";
  tags.title = kThreeByte + kFourByte;
  CHECK(render("{albumartist}/{title}", tags) == "/Bj\xC3\xB6rk/" + kThreeByte + kFourByte);
}

// ---- sanitizing through render ------------------------------------------------------

TEST_CASE("layout a slash in a value never makes a directory", "[layout]") {
  LayoutTrack tags;
  tags.albumartist = "AC/DC";
  tags.album = "../../etc";
  tags.title = "a/b";
  CHECK(render("{albumartist}/{album}/{title}", tags) == "/AC_DC/___.._etc/a_b");
}

TEST_CASE("layout values that are dot or dot-dot become safe names", "[layout]") {
  LayoutTrack tags;
  tags.album = "..";
  tags.title = ".";
  CHECK(render("{album}/{title}", tags) == "/__/_");
}

TEST_CASE("layout control characters and NUL in values become underscores", "[layout]") {
  LayoutTrack tags;
  tags.title = std::string("a\0b\tc\nd\x1f" "e\x7f" "f", 11);
  REQUIRE(tags.title.size() == 11);
  CHECK(render("{title}", tags) == "/a_b_c_d_e_f");
}

TEST_CASE("layout drops trailing spaces of each rendered part", "[layout]") {
  LayoutTrack tags;
  tags.album = "Album   ";
  tags.title = "Title  ";
  tags.ext = "mp3";
  CHECK(render("{album}/{title}.{ext}", tags) == "/Album/Title  .mp3");
  CHECK(render("{album}/{title}", tags) == "/Album/Title");
  tags.genre = "   ";
  CHECK(render("{genre}/{title}", tags) == "/_/Title");
}

TEST_CASE("layout cuts a long file name keeping its extension", "[layout]") {
  LayoutTrack tags;
  tags.track = 1;
  tags.title = std::string(400, 't');
  tags.ext = "flac";
  std::string path = render("{track:02} - {title}.{ext}", tags);
  REQUIRE(path.size() == 1 + 255);
  CHECK(path.substr(0, 6) == "/01 - ");
  CHECK(path.substr(path.size() - 5) == ".flac");
  // A long directory has no extension to keep.
  tags.album = std::string(300, 'a') + ".x";
  std::string dir = render("{album}/{title}", tags);
  CHECK(dir.substr(0, 257) == "/" + std::string(255, 'a') + "/");
}

TEST_CASE("layout keeps only an extension made of ext and literal text", "[layout]") {
  LayoutTrack tags;
  tags.title = std::string(300, 't');
  tags.ext = "flac";
  // ".{title}" is no extension: the name is cut at its end.
  std::string cut = render("{ext}.{title}", tags);
  CHECK(cut == "/flac." + std::string(250, 't'));
  std::string kept = render("{title}.{ext}.part", tags);
  CHECK(kept == "/" + std::string(255 - 10, 't') + ".flac.part");
}

// ---- parse errors --------------------------------------------------------------------

TEST_CASE("layout refuses an empty template", "[layout]") {
  CHECK(parse_error("") == "layout template is empty");
}

TEST_CASE("layout refuses a template that starts with a slash", "[layout]") {
  CHECK(parse_error("/{artist}/{title}") ==
        "layout template: column 1: starts with '/' (the path is relative to the mount's root)");
}

TEST_CASE("layout refuses an empty path component", "[layout]") {
  CHECK(parse_error("{artist}//{title}") == "layout template: column 10: empty directory name ('//')");
  CHECK(parse_error("{artist}/{title}/") ==
        "layout template: column 17: ends with '/' (the last part names the file)");
}

TEST_CASE("layout refuses dot and dot-dot directories", "[layout]") {
  CHECK(parse_error("../{title}") == "layout template: column 1: '..' is not a directory name");
  CHECK(parse_error("{artist}/./{title}") == "layout template: column 10: '.' is not a directory name");
}

TEST_CASE("layout refuses an unknown field and lists the known ones", "[layout]") {
  CHECK(parse_error("{artist}/{albm}/{title}") ==
        "layout template: column 11: unknown field 'albm' (did you mean 'album'?); known fields: "
        "artist, albumartist, album, title, track, disc, year, genre, ext, origin_path");
  CHECK(parse_error("{bitrate}") ==
        "layout template: column 2: unknown field 'bitrate'; known fields: "
        "artist, albumartist, album, title, track, disc, year, genre, ext, origin_path");
  CHECK(parse_error("{Title}").find("unknown field 'Title' (did you mean 'title'?)") != std::string::npos);
  CHECK(parse_error("x {}") ==
        "layout template: column 3: a field with no name (known fields: "
        "artist, albumartist, album, title, track, disc, year, genre, ext, origin_path)");
}

TEST_CASE("layout refuses an unclosed brace", "[layout]") {
  CHECK(parse_error("{artist}/{title") ==
        "layout template: column 10: unclosed '{' (write '{{' for a literal '{')");
  CHECK(parse_error("{art{title}") == "layout template: column 1: unclosed '{' (write '{{' for a literal '{')");
  // "{title/{album}" is one unclosed field, not a field with a '/' in it.
  CHECK(parse_error("{title/{album}") == "layout template: column 1: unclosed '{' (write '{{' for a literal '{')");
}

TEST_CASE("layout refuses a stray closing brace", "[layout]") {
  CHECK(parse_error("{title}}") == "layout template: column 8: stray '}' (write '}}' for a literal '}')");
  CHECK(parse_error("a}b{title}") == "layout template: column 2: stray '}' (write '}}' for a literal '}')");
}

TEST_CASE("layout refuses a bad width", "[layout]") {
  const std::string hint = " (write :01 to :09, a zero and a digit)";
  CHECK(parse_error("{track:2}") == "layout template: column 7: bad width ':2' for 'track'" + hint);
  CHECK(parse_error("{track:00}") == "layout template: column 7: bad width ':00' for 'track'" + hint);
  CHECK(parse_error("{disc:010}") == "layout template: column 6: bad width ':010' for 'disc'" + hint);
  CHECK(parse_error("{year:}") == "layout template: column 6: bad width ':' for 'year'" + hint);
  CHECK(parse_error("{track:0x|}") == "layout template: column 7: bad width ':0x' for 'track'" + hint);
  CHECK(parse_error("{title:02}") ==
        "layout template: column 7: 'title' takes no width (only track, disc and year are numbers)");
}

TEST_CASE("layout refuses a slash in the text of a conditional field", "[layout]") {
  CHECK(parse_error("{genre|a/b}/{title}") ==
        "layout template: column 9: '/' in the text after '|' "
        "(the text for an empty field cannot make a directory)");
}

TEST_CASE("layout refuses a file name without a field", "[layout]") {
  CHECK(parse_error("{artist}/{album}/track.flac") ==
        "layout template: column 18: the file name 'track.flac' has no field, "
        "so every track would get the same name");
  CHECK(parse_error("name") ==
        "layout template: column 1: the file name 'name' has no field, so every track would get the same name");
  CHECK(parse_error("{title}/{{x}}").find("column 9: the file name '{{x}}' has no field") != std::string::npos);
  // A field in a directory alone does not help.
  CHECK(LayoutTemplate::parse("{title}/x").ok() == false);
  CHECK(LayoutTemplate::parse("x/{ext}").ok());
}

TEST_CASE("layout error columns count characters not bytes", "[layout]") {
  // "é" is two bytes but one column.
  CHECK(parse_error(kTwoByte + kFourByte + "/{nope}").find("column 5: unknown field 'nope'") != std::string::npos);
}

// ---- sanitize_name --------------------------------------------------------------------

TEST_CASE("layout sanitize_name replaces slash NUL and control characters", "[layout]") {
  CHECK(sanitize_name("a/b") == "a_b");
  CHECK(sanitize_name(std::string("a\0b", 3)) == "a_b");
  for (int c = 0x01; c < 0x20; ++c) {
    INFO("byte " << c);
    CHECK(sanitize_name("x" + std::string(1, static_cast<char>(c)) + "y") == "x_y");
  }
  CHECK(sanitize_name("x\x7fy") == "x_y");
  CHECK(sanitize_name("plain name") == "plain name");
}

TEST_CASE("layout sanitize_name replaces leading dots", "[layout]") {
  CHECK(sanitize_name(".") == "_");
  CHECK(sanitize_name("..") == "__");
  CHECK(sanitize_name(".hidden") == "_hidden");
  CHECK(sanitize_name("...And Justice") == "___And Justice");
  CHECK(sanitize_name("a.b.") == "a.b.");  // only leading dots
}

TEST_CASE("layout sanitize_name trims trailing spaces and never returns empty", "[layout]") {
  CHECK(sanitize_name("name   ") == "name");
  CHECK(sanitize_name("  name") == "  name");
  CHECK(sanitize_name("") == "_");
  CHECK(sanitize_name("    ") == "_");
  CHECK(sanitize_name(". ") == "_");
}

TEST_CASE("layout sanitize_name cuts to 255 bytes keeping the suffix", "[layout]") {
  std::string name = std::string(300, 'n') + ".flac";
  std::string out = sanitize_name(name, ".flac");
  CHECK(out == std::string(250, 'n') + ".flac");
  CHECK(sanitize_name(name).size() == 255);
  CHECK(sanitize_name(name) == std::string(255, 'n'));
  // A cut that lands after a space drops it too.
  std::string spaced = std::string(254, 'n') + "  tail";
  CHECK(sanitize_name(spaced) == std::string(254, 'n'));
}

TEST_CASE("layout sanitize_name leaves invalid utf-8 bytes alone", "[layout]") {
  std::string bytes = "a\xFF\xFE" "b\x80";
  CHECK(sanitize_name(bytes) == bytes);
}

// ---- cut_name ---------------------------------------------------------------------------

TEST_CASE("layout cut_name keeps a name that fits", "[layout]") {
  CHECK(cut_name("short.flac", 255, ".flac") == "short.flac");
  CHECK(cut_name(std::string(255, 'x'), 255, "") == std::string(255, 'x'));
}

TEST_CASE("layout cut_name never splits a utf-8 character at the limit", "[layout]") {
  for (const std::string& ch : {kTwoByte, kThreeByte, kFourByte}) {
    INFO("a " << ch.size() << "-byte character");
    // The character starts one byte before the limit: it cannot fit and goes whole.
    std::string name = std::string(254, 'a') + ch + "zzz";
    CHECK(cut_name(name, 255, "") == std::string(254, 'a'));
    // It ends exactly at the limit: it stays.
    std::string fits = std::string(255 - ch.size(), 'a') + ch + "zzz";
    CHECK(cut_name(fits, 255, "") == std::string(255 - ch.size(), 'a') + ch);
    // Every other straddling position drops it whole as well.
    for (size_t before = 1; before < ch.size(); ++before) {
      std::string straddle = std::string(255 - before, 'a') + ch + "zzz";
      CHECK(cut_name(straddle, 255, "") == std::string(255 - before, 'a'));
    }
  }
}

TEST_CASE("layout cut_name cuts the stem on a utf-8 boundary and keeps the suffix", "[layout]") {
  for (const std::string& ch : {kTwoByte, kThreeByte, kFourByte}) {
    INFO("a " << ch.size() << "-byte character");
    // Room for the stem is 250 bytes; the character straddles byte 250.
    std::string name = std::string(249, 'a') + ch + std::string(50, 'b') + ".flac";
    std::string out = cut_name(name, 255, ".flac");
    CHECK(out == std::string(249, 'a') + ".flac");
    CHECK(out.size() == 254);
  }
  // A stem of many multi-byte characters ends on a whole character.
  std::string stem;
  for (int i = 0; i < 100; ++i) stem += kThreeByte;
  std::string out = cut_name(stem + ".mp3", 255, ".mp3");
  CHECK(out == stem.substr(0, 251 - 251 % 3) + ".mp3");
}

TEST_CASE("layout cut_name drops a partial sequence that invalid input leaves at the end", "[layout]") {
  // A three-byte lead with one continuation byte, then the limit: both go.
  std::string name = std::string(253, 'a') + "\xE2\x82" + "a" + std::string(10, 'z');
  CHECK(cut_name(name, 255, "") == std::string(253, 'a'));
  // Stray continuation bytes are not the start of anything: they stay.
  std::string stray = std::string(252, 'a') + "\x80\x80\x80" + std::string(10, 'z');
  CHECK(cut_name(stray, 255, "") == std::string(252, 'a') + "\x80\x80\x80");
}

TEST_CASE("layout cut_name ignores a suffix the name does not end with or that leaves no room", "[layout]") {
  std::string name(300, 'n');
  CHECK(cut_name(name, 255, ".flac") == std::string(255, 'n'));
  std::string long_suffix = "." + std::string(260, 's');
  CHECK(cut_name("stem" + long_suffix, 255, long_suffix) == "stem" + long_suffix.substr(0, 251));
  // The suffix fits but a four-byte character first leaves no whole character of room.
  std::string tight = kFourByte + "." + std::string(252, 's');
  CHECK(cut_name(tight + "x", 255, "." + std::string(252, 's') + "x").size() <= 255);
  CHECK(cut_name(tight + "x", 255, "." + std::string(252, 's') + "x") == kFourByte + "." + std::string(250, 's'));
}

// ---- disambiguate ---------------------------------------------------------------------

TEST_CASE("layout disambiguate inserts the number before the extension", "[layout]") {
  CHECK(disambiguate("/A/B/01 - Same.flac", 2) == "/A/B/01 - Same (2).flac");
  CHECK(disambiguate("/A/B/01 - Same.flac", 13) == "/A/B/01 - Same (13).flac");
  CHECK(disambiguate("/x.tar.gz", 3) == "/x.tar (3).gz");
}

TEST_CASE("layout disambiguate appends when there is no extension", "[layout]") {
  CHECK(disambiguate("/A/Name", 2) == "/A/Name (2)");
  CHECK(disambiguate("/A/Mr. Blue Sky", 2) == "/A/Mr. Blue Sky (2)");
  CHECK(disambiguate("/A/trailing.", 2) == "/A/trailing. (2)");
  CHECK(disambiguate("/A/_hidden", 2) == "/A/_hidden (2)");
}

TEST_CASE("layout disambiguate leaves the first track's path alone", "[layout]") {
  CHECK(disambiguate("/A/x.flac", 1) == "/A/x.flac");
  CHECK(disambiguate("/A/x.flac", 0) == "/A/x.flac");
}

TEST_CASE("layout disambiguate respects the 255-byte name limit", "[layout]") {
  std::string name = std::string(250, 'n') + ".flac";  // exactly 255 bytes
  std::string out = disambiguate("/A/" + name, 2);
  CHECK(out == "/A/" + std::string(246, 'n') + " (2).flac");
  CHECK(out.size() - 3 == 255);
  // The cut before " (n)" never splits a character.
  std::string utf = std::string(245, 'n') + kFourByte + "nn.flac";
  CHECK(disambiguate("/" + utf, 2) == "/" + std::string(245, 'n') + " (2).flac");
}
