// origins-list, origins-add, origins-remove, origins-enable, origins-disable.
// Run-time changes take effect at once in the live tree and are persisted in the
// state database, so they survive restarts (merge rules: musicfs.toml(5)).
#include "config/config_parser.h"
#include "config/origin_json.h"
#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"
#include "handlers/json_views.h"

namespace musicfs {

namespace {

Result<MountPtr> target_mount(HandlerContext& ctx) {
  auto mp = path_string_arg(ctx.args, "mount", false);
  if (!mp) return mp.take_error();
  return ctx.daemon.mounts().resolve(*mp);
}

// The catalog entry for id, or nullptr. Caller holds m.catalog_mu.
OriginConfig* catalog_entry(Mount& m, const std::string& id) {
  for (auto& o : m.catalog) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

bool defined_in_config(const Mount& m, const std::string& id) { return m.config.find_origin(id) != nullptr; }

// A listing that stops making progress fails on its own (BoundedOrigin), so this wait
// ends; the deadline is only a backstop for a listing that runs but never ends.
void wait_for_index(Mount& m, const std::string& id) {
  (void)m.federation->wait_index_idle(id, SteadyClock::now() + std::chrono::minutes(30));
}

Reply list(HandlerContext& ctx) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : ctx.daemon.mounts().list()) {
    auto live = m->federation->origins();
    std::lock_guard lock(m->catalog_mu);
    for (const auto& o : m->catalog) {
      nlohmann::json row = {{"mount", encode_path(m->config.mount_point)}, {"id", o.id},          {"type", o.type},
                            {"priority", o.priority},        {"enabled", o.enabled}, {"cache", o.caches_content()}, {"status", "disabled"},
                            {"files", 0},                    {"source", defined_in_config(*m, o.id) ? "config" : "runtime"}};
      for (const auto& rt : *live) {
        if (rt->config.id == o.id) {
          nlohmann::json j = origin_json(*rt, m->federation->tree());
          row["status"] = j["status"];
          row["files"] = j["files"];
          row["location"] = j["location"];
        }
      }
      rows.push_back(row);
    }
  }
  return Reply::success({{"origins", rows}});
}

Reply add(HandlerContext& ctx) {
  auto m = target_mount(ctx);
  if (!m) return Reply::failure(m.error());
  auto def = ctx.args.find("origin");
  if (def == ctx.args.end()) return Reply::failure("invalid_argument", "missing argument 'origin'");
  // The origin's "path" may come in the byte form of path_encoding.h; the config
  // validation below wants the bytes. A definition is a handful of fields: copying it is cheap.
  nlohmann::json definition = *def;
  if (auto p = definition.find("path"); definition.is_object() && p != definition.end() && p->is_object()) {
    auto bytes = decode_path(*p);
    if (!bytes) return Reply::failure(bytes.error().with_context("argument 'origin'"));
    *p = std::move(*bytes);
  }
  // The same validation as a [[origins]] table in the config file.
  auto o = origin_from_json(definition, "origins add");
  if (!o) return Reply::failure(o.error());
  Mount& mount = **m;
  if (auto s = check_origin_outside_mount(mount.config.mount_point, *o, "origins add"); !s) return Reply::failure(s.error());
  {
    std::lock_guard lock(mount.catalog_mu);
    if (catalog_entry(mount, o->id) != nullptr) {
      return Reply::failure("exists", "origin '" + o->id + "' already exists in " + mount.config.mount_point);
    }
    if (o->enabled) {
      if (auto s = mount.federation->add_origin(*o); !s) return Reply::failure(s.error());
    }
    if (StateStore* store = ctx.daemon.store()) {
      if (auto s = store->save_runtime_origin({mount.config.mount_point, o->id, *o, std::nullopt, false}); !s) {
        (void)mount.federation->remove_origin(o->id);
        return Reply::failure(s.error());
      }
    }
    mount.catalog.push_back(*o);
  }
  // Outside the catalog lock, and only for this origin: a listing takes as long as the
  // library is big, and another origin that hangs must not hold this command.
  wait_for_index(mount, o->id);
  nlohmann::json j = origin_to_json(*o);
  j["mount"] = encode_path(mount.config.mount_point);
  if (auto rt = mount.federation->registry().get(o->id)) j["files"] = mount.federation->tree_now().file_count(rt->slot);
  return Reply::success(j);
}

// Resolves the mount and the origin named in a request and runs fn on them with the
// catalog locked; a missing mount, id or origin is the error reply.
template <typename Fn>
Reply with_origin(HandlerContext& ctx, Fn&& fn) {
  auto m = target_mount(ctx);
  if (!m) return Reply::failure(m.error());
  auto id = string_arg(ctx.args, "id");
  if (!id) return Reply::failure(id.error());
  Mount& mount = **m;
  std::lock_guard lock(mount.catalog_mu);
  OriginConfig* entry = catalog_entry(mount, *id);
  if (entry == nullptr) return Reply::failure("not_found", "no origin '" + *id + "' in " + mount.config.mount_point);
  return fn(mount, entry, &*id);
}

Reply remove(HandlerContext& ctx) {
  return with_origin(ctx, [&](Mount& mount, OriginConfig* entry, const std::string* id) -> Reply {
    if (entry->enabled) (void)mount.federation->remove_origin(*id);
    if (StateStore* store = ctx.daemon.store()) {
      // A config-file origin needs a tombstone to stay removed; a run-time one is forgotten.
      Status s = defined_in_config(mount, *id)
                     ? store->save_runtime_origin({mount.config.mount_point, *id, std::nullopt, std::nullopt, true})
                     : store->delete_runtime_origin(mount.config.mount_point, *id);
      if (!s) return Reply::failure(s.error());
    }
    mount.catalog.erase(mount.catalog.begin() + (entry - mount.catalog.data()));
    return Reply::success({{"mount", encode_path(mount.config.mount_point)}, {"id", *id}});
  });
}

Reply set_enabled(HandlerContext& ctx, bool enabled) {
  MountPtr enabled_in;  // held, so the mount outlives the wait below
  std::string enabled_id;
  Reply reply = with_origin(ctx, [&](Mount& mount, OriginConfig* entry, const std::string* id) -> Reply {
    if (entry->enabled != enabled) {
      if (enabled) {
        enabled_in = ctx.daemon.mounts().find(mount.config.mount_point);
        enabled_id = *id;
        OriginConfig copy = *entry;
        copy.enabled = true;
        if (auto s = mount.federation->add_origin(copy); !s) return Reply::failure(s.error());
      } else {
        (void)mount.federation->remove_origin(*id, "origin_disabled");
      }
      entry->enabled = enabled;
    }
    if (StateStore* store = ctx.daemon.store()) {
      std::optional<OriginConfig> def;
      if (!defined_in_config(mount, *id)) def = *entry;
      if (auto s = store->save_runtime_origin({mount.config.mount_point, *id, def, enabled, false}); !s) {
        return Reply::failure(s.error());
      }
    }
    return Reply::success({{"mount", encode_path(mount.config.mount_point)}, {"id", *id}, {"enabled", enabled}});
  });
  // As for add: outside the catalog lock, for this origin only.
  if (reply.ok && enabled_in) wait_for_index(*enabled_in, enabled_id);
  return reply;
}

}  // namespace

CommandHandler origins_list_handler() { return {"origins-list", list}; }
CommandHandler origins_add_handler() { return {"origins-add", add}; }
CommandHandler origins_remove_handler() { return {"origins-remove", remove}; }
CommandHandler origins_enable_handler() {
  return {"origins-enable", [](HandlerContext& ctx) { return set_enabled(ctx, true); }};
}
CommandHandler origins_disable_handler() {
  return {"origins-disable", [](HandlerContext& ctx) { return set_enabled(ctx, false); }};
}

}  // namespace musicfs
