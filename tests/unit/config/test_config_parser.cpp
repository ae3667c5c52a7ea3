#include <catch2/catch.hpp>
#include <toml++/toml.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "config/config_parser.h"
#include "config/origin_json.h"
#include "unit/unit_support.h"

using namespace musicfs;
using Catch::Contains;

namespace {

// Parses `text` as "test.toml" and requires a kConfig error whose message names the
// file and line ("test.toml:N:") and the key; returns the message for further checks.
std::string config_error(const std::string& text, int line, const std::string& key) {
  auto r = parse_config_string(text, "test.toml");
  REQUIRE_FALSE(r.ok());
  const std::string& msg = r.error().message;
  INFO("message: " << msg);
  CHECK(r.error().code == ErrorCode::kConfig);
  CHECK_THAT(msg, Contains("test.toml:" + std::to_string(line) + ":"));
  CHECK_THAT(msg, Contains(key));
  return msg;
}

const char* kMinimalOrigin = R"([[origins]]
id = "music"
origin_type = "local"
priority = 1
path = "/srv/music"
)";

}  // namespace

TEST_CASE("a full config with every schema key parses into the right values", "[config]") {
  const std::string text = R"(mount_point = "/mnt/music"
cache_dir = "/var/cache/musicfs"

[[origins]]
id = "disk"
origin_type = "local"
priority = 1
enabled = false
path = "/srv/music"

[[origins]]
id = "nas"
origin_type = "nfs"
priority = 2
enabled = true
path = "/mnt/nas/music"

[cache]
metadata_cache_mb = 256
content_cache_gb = 42

[health]
check_interval_secs = 15
timeout_ms = 2500
unhealthy_threshold = 4
healthy_threshold = 3
read_timeout_ms = 8000
retry_delays_ms = [50, 250, 1000]
history_days = 7

[health.per_origin_thresholds]
local = 2
nfs = 6
)";
  auto r = parse_config_string(text, "test.toml");
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  const Config& c = *r;
  CHECK(c.source_path == "test.toml");
  CHECK(c.mount_point == "/mnt/music");
  CHECK(c.cache_dir == "/var/cache/musicfs");

  REQUIRE(c.origins.size() == 2);
  CHECK(c.origins[0].id == "disk");
  CHECK(c.origins[0].type == "local");
  CHECK(c.origins[0].priority == 1);
  CHECK(c.origins[0].enabled == false);
  CHECK(c.origins[0].string_setting("path") == "/srv/music");
  CHECK(c.origins[0].source_line == 4);
  CHECK(c.origins[1].id == "nas");
  CHECK(c.origins[1].type == "nfs");
  CHECK(c.origins[1].priority == 2);
  CHECK(c.origins[1].enabled == true);
  CHECK(c.origins[1].string_setting("path") == "/mnt/nas/music");
  CHECK(c.find_origin("nas") == &c.origins[1]);
  CHECK(c.find_origin("nope") == nullptr);

  CHECK(c.cache.metadata_cache_mb == 256);
  CHECK(c.cache.content_cache_gb == 42);

  CHECK(c.health.check_interval_secs == 15);
  CHECK(c.health.timeout_ms == 2500);
  CHECK(c.health.unhealthy_threshold == 4);
  CHECK(c.health.healthy_threshold == 3);
  CHECK(c.health.read_timeout_ms == 8000);
  CHECK(c.health.retry_delays_ms == std::vector<int64_t>{50, 250, 1000});
  CHECK(c.health.history_days == 7);
  CHECK(c.health.per_origin_thresholds.size() == 2);
  CHECK(c.health.threshold_for("local") == 2);
  CHECK(c.health.threshold_for("nfs") == 6);
  // Not overridden: remote types fall back to unhealthy_threshold.
  CHECK(c.health.threshold_for("s3") == 4);
}

TEST_CASE("omitted keys take their documented defaults", "[config]") {
  auto r = parse_config_string(std::string("mount_point = \"/mnt/music\"\n") + kMinimalOrigin, "test.toml");
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  const Config& c = *r;
  REQUIRE(c.origins.size() == 1);
  // The plan's sketch had `enabled` default to false; the issue fixes it to true.
  CHECK(c.origins[0].enabled == true);
  CHECK_FALSE(c.cache_dir.empty());  // XDG default
  CHECK(c.cache.metadata_cache_mb == 100);
  CHECK(c.cache.content_cache_gb == 10);
  CHECK(c.health.check_interval_secs == 30);
  CHECK(c.health.timeout_ms == 5000);
  CHECK(c.health.unhealthy_threshold == 3);
  CHECK(c.health.healthy_threshold == 2);
  CHECK(c.health.read_timeout_ms == 10000);
  CHECK(c.health.retry_delays_ms == std::vector<int64_t>{100, 500, 2000});
  CHECK(c.health.history_days == 30);
  CHECK(c.health.per_origin_thresholds.empty());
}

TEST_CASE("HealthConfig::threshold_for: local 1, remote types 3, overridable", "[config][health]") {
  HealthConfig h;
  CHECK(h.threshold_for("local") == 1);
  CHECK(h.threshold_for("nfs") == 3);
  CHECK(h.threshold_for("s3") == 3);
  CHECK(h.threshold_for("sftp") == 3);
  CHECK(h.threshold_for("smb") == 3);

  SECTION("unhealthy_threshold moves the remote default only") {
    h.unhealthy_threshold = 5;
    CHECK(h.threshold_for("local") == 1);
    CHECK(h.threshold_for("nfs") == 5);
    CHECK(h.threshold_for("smb") == 5);
  }
  SECTION("per_origin_thresholds overrides either kind") {
    h.per_origin_thresholds["local"] = 4;
    h.per_origin_thresholds["sftp"] = 1;
    CHECK(h.threshold_for("local") == 4);
    CHECK(h.threshold_for("sftp") == 1);
    CHECK(h.threshold_for("nfs") == 3);
  }
  SECTION("from a config file") {
    auto r = parse_config_string(std::string(kMinimalOrigin) +
                                     "[health.per_origin_thresholds]\nlocal = 3\ns3 = 1\n",
                                 "test.toml");
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->health.threshold_for("local") == 3);
    CHECK(r->health.threshold_for("s3") == 1);
    CHECK(r->health.threshold_for("nfs") == 3);
  }
}

TEST_CASE("origin cache policy: off for local, on for the other types, set with cache", "[config][cache]") {
  const std::string text = R"(mount_point = "/mnt/music"
[[origins]]
id = "disk"
origin_type = "local"
priority = 1
path = "/srv/music"
[[origins]]
id = "share"
origin_type = "nfs"
priority = 2
path = "/mnt/nas"
[[origins]]
id = "cloud"
origin_type = "s3"
priority = 3
bucket = "music"
[[origins]]
id = "disk-cached"
origin_type = "local"
priority = 4
path = "/srv/other"
cache = true
[[origins]]
id = "box"
origin_type = "sftp"
priority = 5
host = "box.example"
path = "/music"
cache = false
)";
  auto r = parse_config_string(text, "test.toml");
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  REQUIRE(r->origins.size() == 5);
  CHECK_FALSE(r->origins[0].cache.has_value());
  CHECK_FALSE(r->origins[0].caches_content());
  CHECK(r->origins[1].caches_content());
  CHECK(r->origins[2].caches_content());
  CHECK(r->origins[3].caches_content());
  CHECK_FALSE(r->origins[4].caches_content());

  OriginConfig o;
  for (const char* type : {"smb", "http", "sftp"}) {
    o.type = type;
    CHECK(o.caches_content());
  }

  SECTION("origins add and the catalog carry it as JSON, only when set") {
    CHECK_FALSE(origin_to_json(r->origins[0]).contains("cache"));
    CHECK(origin_to_json(r->origins[3])["cache"] == true);
    auto back = origin_from_json(origin_to_json(r->origins[4]), "origin");
    INFO((back.ok() ? std::string() : back.error().message));
    REQUIRE(back.ok());
    CHECK(back->cache == std::optional<bool>(false));
  }
  SECTION("a wrong type is an error naming the key") {
    config_error(std::string("mount_point = \"/mnt/music\"\n") + kMinimalOrigin + "cache = \"yes\"\n", 7,
                 "origins[0].cache");
  }
}

// The plan's test_parse_config: a local and an s3 origin with s3-specific keys.
TEST_CASE("test_parse_config (plan): local + s3 origins", "[config]") {
  const std::string text = R"(mount_point = "/mnt/music"
cache_dir = "/home/user/.cache/musicfs"
[[origins]]
id = "local"
origin_type = "local"
priority = 1
path = "/mnt/nas/music"
[[origins]]
id = "backup"
origin_type = "s3"
priority = 2
bucket = "music-backup"
region = "us-east-1"
)";
  auto r = parse_config_string(text, "test.toml");
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  REQUIRE(r->origins.size() == 2);
  CHECK(r->origins[0].priority == 1);
  CHECK(r->origins[1].type == "s3");
  CHECK(r->origins[1].string_setting("bucket") == "music-backup");
  CHECK(r->origins[1].string_setting("region") == "us-east-1");
  CHECK(r->origins[1].enabled == true);
}

TEST_CASE("config errors name file, line and key", "[config]") {
  SECTION("malformed TOML") {
    std::string msg = config_error("mount_point = \"/mnt/music\"\n[[origins]\nid = 1\n", 2, "invalid TOML");
    CHECK_THAT(msg, Contains("test.toml:2:"));
  }
  SECTION("unknown origin_type, with a suggestion") {
    std::string msg = config_error(R"(mount_point = "/mnt/music"
[[origins]]
id = "a"
origin_type = "locl"
priority = 1
path = "/srv/a"
)",
                                   4, "origins[0].origin_type");
    CHECK_THAT(msg, Contains("unknown origin_type 'locl'"));
    CHECK_THAT(msg, Contains("did you mean 'local'"));
  }
  SECTION("unknown origin_type far from any known one: no suggestion") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "gopher"
priority = 1
)",
                                   3, "origins[0].origin_type");
    CHECK_THAT(msg, Contains("gopher"));
    CHECK_THAT(msg, !Contains("did you mean"));
  }
  SECTION("duplicate origin id") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "local"
priority = 1
path = "/srv/a"

[[origins]]
id = "a"
origin_type = "local"
priority = 2
path = "/srv/b"
)",
                                   8, "origins[1].id");
    CHECK_THAT(msg, Contains("duplicate origin id 'a'"));
    CHECK_THAT(msg, Contains("line 1"));
  }
  SECTION("priority 256 is out of range") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "local"
priority = 256
path = "/srv/a"
)",
                                   4, "origins[0].priority");
    CHECK_THAT(msg, Contains("256 is out of range 0-255"));
  }
  SECTION("priority -1 is out of range") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "local"
priority = -1
path = "/srv/a"
)",
                                   4, "origins[0].priority");
    CHECK_THAT(msg, Contains("-1 is out of range 0-255"));
  }
  SECTION("missing path") {
    std::string msg = config_error(R"(mount_point = "/mnt/music"

[[origins]]
id = "a"
origin_type = "local"
priority = 1
)",
                                   3, "origins[0].path");
    CHECK_THAT(msg, Contains("missing"));
  }
  SECTION("relative path") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "local"
priority = 1
path = "music/here"
)",
                                   5, "origins[0].path");
    CHECK_THAT(msg, Contains("'music/here' must be an absolute path"));
  }
  SECTION("relative mount_point") {
    std::string msg = config_error("cache_dir = \"/c\"\nmount_point = \"mnt\"\n", 2, "mount_point");
    CHECK_THAT(msg, Contains("must be an absolute path"));
  }
  SECTION("unknown top-level key, with a suggestion") {
    std::string msg = config_error("cache_dir = \"/c\"\nmountpoint = \"/mnt/music\"\n", 2, "mountpoint");
    CHECK_THAT(msg, Contains("unknown key"));
    CHECK_THAT(msg, Contains("did you mean 'mount_point'"));
  }
  SECTION("unknown key in [[origins]], with a suggestion") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "local"
priorty = 1
path = "/srv/a"
)",
                                   4, "origins[0].priorty");
    CHECK_THAT(msg, Contains("unknown key"));
    CHECK_THAT(msg, Contains("did you mean 'priority'"));
  }
  SECTION("a key of another origin type in [[origins]]") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "local"
priority = 1
path = "/srv/a"
bucket = "b"
)",
                                   6, "origins[0].bucket");
    CHECK_THAT(msg, Contains("unknown key"));
  }
  SECTION("unknown key in [health], with a suggestion") {
    std::string msg = config_error("[health]\ntimeout_ms = 100\ncheck_interval_sec = 10\n", 3,
                                   "health.check_interval_sec");
    CHECK_THAT(msg, Contains("unknown key"));
    CHECK_THAT(msg, Contains("did you mean 'check_interval_secs'"));
  }
  SECTION("unknown key in [cache], with a suggestion") {
    std::string msg = config_error("\n[cache]\nmetadata_cache_m = 5\n", 3, "cache.metadata_cache_m");
    CHECK_THAT(msg, Contains("unknown key"));
    CHECK_THAT(msg, Contains("did you mean 'metadata_cache_mb'"));
  }
  SECTION("per_origin_thresholds with an unknown origin type") {
    std::string msg = config_error("[health]\n[health.per_origin_thresholds]\nlocal = 1\nnfss = 2\n", 4,
                                   "health.per_origin_thresholds.nfss");
    CHECK_THAT(msg, Contains("unknown origin type"));
    CHECK_THAT(msg, Contains("did you mean 'nfs'"));
  }
  SECTION("per_origin_thresholds value out of range") {
    std::string msg =
        config_error("[health.per_origin_thresholds]\nlocal = 0\n", 2, "health.per_origin_thresholds.local");
    CHECK_THAT(msg, Contains("1-1000"));
  }
  SECTION("enabled must be a boolean") {
    std::string msg = config_error(R"([[origins]]
id = "a"
origin_type = "local"
priority = 1
enabled = "yes"
path = "/srv/a"
)",
                                   5, "origins[0].enabled");
    CHECK_THAT(msg, Contains("expected true or false"));
  }
  SECTION("health value out of range") {
    std::string msg = config_error("[health]\ncheck_interval_secs = 0\n", 2, "health.check_interval_secs");
    CHECK_THAT(msg, Contains("out of range"));
  }
  SECTION("retry_delays_ms must hold integers") {
    std::string msg = config_error("[health]\nretry_delays_ms = [100, \"x\"]\n", 2, "health.retry_delays_ms");
    CHECK_THAT(msg, Contains("0-60000"));
  }
}

TEST_CASE("parse_origin_table validates one table for `origins add`", "[config]") {
  SECTION("valid table") {
    toml::table t = toml::parse("id = \"x\"\norigin_type = \"local\"\npriority = 7\npath = \"/srv/x\"\n");
    auto r = parse_origin_table(t, "origins add");
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->id == "x");
    CHECK(r->type == "local");
    CHECK(r->priority == 7);
    CHECK(r->enabled == true);
    CHECK(r->string_setting("path") == "/srv/x");
  }
  SECTION("errors carry the `where` prefix and the key") {
    toml::table t = toml::parse("id = \"x\"\norigin_type = \"local\"\npriority = 300\npath = \"/srv/x\"\n");
    auto r = parse_origin_table(t, "origins add");
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().code == ErrorCode::kConfig);
    CHECK_THAT(r.error().message, Contains("origins add:3: priority: 300 is out of range 0-255"));
  }
  SECTION("missing priority") {
    toml::table t = toml::parse("id = \"x\"\norigin_type = \"local\"\npath = \"/srv/x\"\n");
    auto r = parse_origin_table(t, "origins add");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Contains("priority: missing"));
  }
  SECTION("bad id characters") {
    toml::table t = toml::parse("id = \"a b\"\norigin_type = \"local\"\npriority = 1\npath = \"/srv/x\"\n");
    auto r = parse_origin_table(t, "origins add");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Contains("origins add:1: id:"));
  }
}

TEST_CASE("check_mount_point: missing and unset mount points", "[config]") {
  test::TempDir dir("cfg");
  SECTION("an existing directory is accepted") {
    auto r = parse_config_string("mount_point = \"" + dir.path() + "\"\n", "test.toml");
    REQUIRE(r.ok());
    CHECK(check_mount_point(*r).ok());
  }
  SECTION("a mount point that does not exist") {
    std::string missing = dir / "no-such-dir";
    auto r = parse_config_string("mount_point = \"" + missing + "\"\n", "test.toml");
    REQUIRE(r.ok());
    auto s = check_mount_point(*r);
    REQUIRE_FALSE(s.ok());
    INFO(s.error().message);
    CHECK(s.error().code == ErrorCode::kConfig);
    CHECK_THAT(s.error().message, Contains("test.toml"));
    CHECK_THAT(s.error().message, Contains("mount_point"));
    CHECK_THAT(s.error().message, Contains(missing));
    CHECK_THAT(s.error().message, Contains("does not exist"));
  }
  SECTION("a mount point that is a file") {
    std::string file = dir.write("f", "x");
    auto r = parse_config_string("mount_point = \"" + file + "\"\n", "test.toml");
    REQUIRE(r.ok());
    auto s = check_mount_point(*r);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error().message, Contains("is not a directory"));
  }
  SECTION("mount_point unset") {
    auto r = parse_config_string(kMinimalOrigin, "test.toml");
    REQUIRE(r.ok());
    auto s = check_mount_point(*r);
    REQUIRE_FALSE(s.ok());
    INFO(s.error().message);
    CHECK(s.error().code == ErrorCode::kConfig);
    CHECK_THAT(s.error().message, Contains("test.toml"));
    CHECK_THAT(s.error().message, Contains("mount_point: missing"));
  }
}

TEST_CASE("check_mount_point names the line of a nonexistent mount_point", "[config]") {
  test::TempDir dir("cfg");
  auto r = parse_config_string("\n\nmount_point = \"" + (dir / "absent") + "\"\n", "test.toml");
  REQUIRE(r.ok());
  auto s = check_mount_point(*r);
  REQUIRE_FALSE(s.ok());
  INFO(s.error().message);
  CHECK_THAT(s.error().message, Contains("test.toml:3:"));
}

TEST_CASE("parse_config_file reads a file and names it in errors", "[config]") {
  test::TempDir dir("cfg");
  std::string good = dir.write("good.toml", std::string("mount_point = \"/mnt/m\"\n") + kMinimalOrigin);
  auto r = parse_config_file(good);
  REQUIRE(r.ok());
  CHECK(r->source_path == good);
  CHECK(r->origins.size() == 1);

  std::string bad = dir.write("bad.toml", "[health]\ntimeout_ms = \"fast\"\n");
  auto b = parse_config_file(bad);
  REQUIRE_FALSE(b.ok());
  CHECK_THAT(b.error().message, Contains(bad + ":2: health.timeout_ms"));

  auto missing = parse_config_file(dir / "nope.toml");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Contains("nope.toml"));
}

TEST_CASE("parse_config_file refuses what is not a regular file without blocking", "[config]") {
  test::TempDir dir("cfg");
  SECTION("a FIFO with no writer is refused at once, not read") {
    const std::string fifo = dir / "fifo.toml";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto r = parse_config_file(fifo);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kConfig);
    CHECK(r.error().message == "config file " + fifo + ": is a FIFO, not a regular file");
  }
  SECTION("a directory is not an empty config") {
    auto r = parse_config_file(dir.path());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kConfig);
    CHECK(r.error().message == "config file " + dir.path() + ": is a directory, not a regular file");
  }
  SECTION("a character device such as /dev/zero is refused before a byte is read") {
    auto r = parse_config_file("/dev/zero");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "config file /dev/zero: is a character device, not a regular file");
  }
}

TEST_CASE("parse_config_file caps the size of a config file at 1 MiB", "[config]") {
  test::TempDir dir("cfg");
  // A comment line pads the file: valid TOML, so only the size can refuse it.
  const std::string base = std::string("mount_point = \"/mnt/m\"\n") + kMinimalOrigin;
  std::string at_cap = base + "#" + std::string(kMaxConfigBytes - base.size() - 2, 'x') + "\n";
  REQUIRE(at_cap.size() == kMaxConfigBytes);
  auto ok = parse_config_file(dir.write("at_cap.toml", at_cap));
  INFO((ok.ok() ? std::string() : ok.error().message));
  CHECK(ok.ok());

  const std::string big = dir.write("big.toml", at_cap + "#\n");
  auto r = parse_config_file(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kConfig);
  CHECK(r.error().message == "config file " + big + ": is larger than 1024 KiB (the limit for a config file)");
}

TEST_CASE("an empty origins array is a valid config with no origins", "[config]") {
  auto r = parse_config_string("mount_point = \"/mnt/m\"\norigins = []\n", "test.toml");
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->origins.empty());
  // Anything else that is not an array of tables is still refused.
  config_error("origins = [1, 2]\n", 1, "origins");
  config_error("origins = \"disk\"\n", 1, "origins");
}

TEST_CASE("every config error is one line even when it quotes a newline", "[config]") {
  SECTION("a toml++ parse error") {
    auto r = parse_config_string("mount_point = \"/mnt/m\nx\"\n", "test.toml");
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK_THAT(r.error().message, Contains("test.toml:1:"));
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
  SECTION("a value with a newline quoted by a schema error") {
    const std::string msg = config_error("mount_point = \"mnt\\nx\"\n", 1, "mount_point");
    CHECK(msg == "test.toml:1: mount_point: 'mnt\\nx' must be an absolute path");
  }
  SECTION("a key with a control character") {
    const std::string msg = config_error("\"a\\u0001b\" = 1\n", 1, "unknown key");
    CHECK(msg.find('\x01') == std::string::npos);
    CHECK_THAT(msg, Contains("a\\x01b"));
  }
  CHECK(one_line("tab\there\r\n") == "tab\\there\\r\\n");
}

TEST_CASE("check_mount_point refuses a local origin that overlaps the mount point", "[config]") {
  test::TempDir dir("cfg");
  const std::string mnt = dir / "mnt";
  const std::string music = dir / "music";
  std::filesystem::create_directories(mnt + "/sub");
  std::filesystem::create_directories(music);
  auto config_with = [&](const std::string& type, const std::string& path) {
    auto r = parse_config_string("mount_point = \"" + mnt + "\"\n\n[[origins]]\nid = \"disk\"\norigin_type = \"" + type +
                                     "\"\npriority = 1\npath = \"" + path + "\"\n",
                                 "test.toml");
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(check_mount_point(config_with("local", music)).ok());
  struct Case {
    std::string type, path, why;
  };
  for (const Case& c : {Case{"local", mnt, "is the mount point itself"},
                        Case{"local", mnt + "/./", "is the mount point itself"},  // compared by realpath
                        Case{"nfs", dir.path(), "contains the mount point " + mnt},
                        Case{"smb", mnt + "/sub", "lies inside the mount point " + mnt}}) {
    auto s = check_mount_point(config_with(c.type, c.path));
    REQUIRE_FALSE(s.ok());
    INFO(s.error().message);
    CHECK(s.error().code == ErrorCode::kConfig);
    CHECK_THAT(s.error().message, Contains("test.toml:3: origin 'disk': path '" + c.path + "' " + c.why));
  }
  // A mount point given through a symlink is the same directory.
  std::filesystem::create_symlink(mnt, dir / "link");
  Config c = config_with("local", mnt);
  c.mount_point = dir / "link";
  CHECK_FALSE(check_mount_point(c).ok());
  // Remote types have no local path to compare.
  OriginConfig sftp;
  sftp.id = "far";
  sftp.type = "sftp";
  sftp.settings["path"] = mnt;
  CHECK(check_origin_outside_mount(mnt, sftp, "origins add").ok());
}

// Found by the config fuzzer (tests/fuzz/corpus/fuzz_config/crash-float-*): a float
// where an integer belongs was converted before its type was checked, and 1e300 does
// not fit in an int64_t (undefined behaviour; the sanitizer build aborted).
TEST_CASE("a huge float where an integer belongs is a clean error, not a conversion", "[config]") {
  for (const char* text : {
           "mount_point = \"/mnt/m\"\n[[origins]]\nid = \"a\"\norigin_type = \"local\"\npriority = 1e300\npath = \"/a\"\n",
           "mount_point = \"/mnt/m\"\n[health.per_origin_thresholds]\nsmb = 88E58\n",
           "mount_point = \"/mnt/m\"\n[health]\nretry_delays_ms = [1e300]\n",
           "mount_point = \"/mnt/m\"\n[[origins]]\nid = \"s\"\norigin_type = \"sftp\"\npriority = 1\nhost = \"h\"\n"
           "path = \"/m\"\nport = 1e300\n",
       }) {
    INFO(text);
    auto r = parse_config_string(text, "test.toml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("test.toml:") == 0);
  }
}

TEST_CASE("check_config_string keeps going past a bad value and sorts problems by line", "[config]") {
  auto check = check_config_string(
      "[cache]\nmetadata_cache_mb = \"big\"\n\n[[origins]]\norigin_type = \"local\"\npriorty = 1\npath = \"/srv\"\nid = \"x\"\n"
      "\nmount_point = 5\n",
      "t.toml");
  REQUIRE_FALSE(check.config);
  std::vector<int> lines;
  for (const auto& p : check.problems) lines.push_back(p.line);
  // [cache] value (2), the origin's missing priority (its table, 4), the misspelt key (6).
  // mount_point = 5 after [[origins]] belongs to that table: an unknown key at 10.
  CHECK(lines == std::vector<int>{2, 4, 6, 10});
  // The one-line form names the problem the parser met first (it reads [cache] before
  // the origins), with a count of the rest.
  auto one = std::move(check).take();
  REQUIRE_FALSE(one);
  CHECK_THAT(one.error().message, Catch::Contains("t.toml:2: cache.metadata_cache_mb: expected an integer"));
  CHECK_THAT(one.error().message, Catch::EndsWith("(and 3 more: see 'musicfsctl config check')"));
}

TEST_CASE("the metrics section: textfile and interval_secs parse with a default interval of 15", "[config][metrics]") {
  auto none = parse_config_string(kMinimalOrigin, "test.toml");
  REQUIRE(none.ok());
  CHECK(none->metrics.textfile.empty());
  CHECK(none->metrics.interval_secs == 15);

  auto c = parse_config_string(std::string(kMinimalOrigin) + "[metrics]\ntextfile = \"/var/lib/node/musicfs.prom\"\n",
                               "test.toml");
  REQUIRE(c.ok());
  CHECK(c->metrics.textfile == "/var/lib/node/musicfs.prom");
  CHECK(c->metrics.interval_secs == 15);
  CHECK(c->metrics.textfile_line == 7);

  auto every = parse_config_string(std::string(kMinimalOrigin) + "[metrics]\ntextfile = \"/t/m.prom\"\ninterval_secs = 1\n",
                                   "test.toml");
  REQUIRE(every.ok());
  CHECK(every->metrics.interval_secs == 1);
}

TEST_CASE("the metrics section: errors name file line and key", "[config][metrics]") {
  const std::string base = std::string(kMinimalOrigin) + "[metrics]\n";
  CHECK_THAT(config_error(base + "textfile = \"/t/musicfs.txt\"\n", 7, "metrics.textfile: "), Contains(".prom"));
  CHECK_THAT(config_error(base + "textfile = \"/t/.prom\"\n", 7, "metrics.textfile: "), Contains(".prom"));
  CHECK_THAT(config_error(base + "textfile = \"m.prom\"\n", 7, "metrics.textfile: "), Contains("absolute"));
  CHECK_THAT(config_error(base + "textfile = 3\n", 7, "metrics.textfile: "), Contains("string"));
  CHECK_THAT(config_error(base + "interval_secs = 0\n", 7, "metrics.interval_secs: "), Contains("out of range"));
  CHECK_THAT(config_error(base + "interval_sec = 5\n", 7, "metrics.interval_sec: "), Contains("interval_secs"));
  CHECK_THAT(config_error("metrics = 1\n" + std::string(kMinimalOrigin), 1, "metrics: "), Contains("[metrics]"));
}
