// `bulwark demo`: the theme-park scenario on an embedded journal.
//
// Registers a fleet, journals a few hundred changes (decision, start, effect, finish)
// on a virtual clock, then verifies the chain, replays the journal and checks that the
// replayed state equals the live state. Exits 0 only if every invariant held.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/journal/journal.hpp"
#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "messages/register.hpp"
#include "messages/state.hpp"
#include "persistence/event_json.hpp"
#include "persistence/make_event.hpp"
#include "persistence/replay.hpp"
#include "persistence/sha256.hpp"

namespace bulwark::cli {

namespace {

struct demo_args {
  std::string data;
  uint64_t seed = 1;
  unsigned changes = 300;
  bool json = false;
};

/// The virtual clock of the scenario: starts at a fixed instant, moves by steps.
struct virtual_clock {
  caf::timestamp now{std::chrono::seconds{1'767'225'600}}; // 2026-01-01T00:00:00Z
  caf::timestamp tick(std::chrono::milliseconds d) {
    now += d;
    return now;
  }
};

const char* services[] = {"coaster", "carousel", "gates", "pos"};
const char* regions[] = {"north", "south"};

std::vector<event> fleet_events(virtual_clock& clock) {
  std::vector<event> out;
  for (auto* service : services)
    for (auto* region : regions)
      for (int i = 1; i <= 12; ++i) {
        resource_registered r;
        r.resource = resource_id{std::string{service} + "-" + region + "-"
                                 + (i < 10 ? "0" : "") + std::to_string(i)};
        r.service = service;
        r.region = region;
        r.attributes = {{"firmware", "1.0.0"}, {"mode", "normal"}};
        out.push_back(make_event(event_type::resource_registered, clock.tick(std::chrono::milliseconds{5}), r));
      }
  return out;
}

/// One automated change: decided, started, applied and finished, as one batch.
std::vector<event> change_events(virtual_clock& clock, std::mt19937_64& rng,
                                 const fleet_state& fleet, unsigned n) {
  auto it = fleet.resources.begin();
  std::advance(it, rng() % fleet.resources.size());
  const char* keys[] = {"firmware", "mode", "queue_limit"};
  mutation m{resource_id{it->first}, keys[rng() % 3], "v" + std::to_string(rng() % 1000)};
  proposal_decided d;
  d.idempotency_key = "demo-" + std::to_string(n);
  d.principal = principal_id{"rollout-agent"};
  d.level = authority_level::enforce;
  d.service = it->second.service;
  d.region = it->second.region;
  d.allowed = true;
  d.reason = "within grant and blast radius";
  d.allowed_count = 1;
  d.gates = {{gate::no_human_intervention, true, ""}, {gate::audit_only, true, ""}};
  d.mutations = {m};
  auto bytes = encode(d);
  d.proposal = sha256(bytes.data(), bytes.size());
  trace_id trace{n + 1};
  std::vector<event> out;
  out.push_back(make_event(event_type::proposal_decided, clock.tick(std::chrono::milliseconds{40}), d, trace));
  out.push_back(make_event(event_type::action_started, clock.tick(std::chrono::milliseconds{1}),
                           action_started{d.proposal, 0, m}, trace));
  caf::optional<std::string> old;
  if (auto a = it->second.attributes.find(m.key); a != it->second.attributes.end())
    old = a->second;
  out.push_back(make_event(event_type::action_applied, clock.tick(std::chrono::milliseconds{12}),
                           action_applied{d.proposal, 0, m.resource, m.key, old, m.value}, trace));
  out.push_back(make_event(event_type::proposal_finished, clock.tick(std::chrono::milliseconds{1}),
                           proposal_finished{d.proposal, true, ec::none, 1, 0, ""}, trace));
  return out;
}

caf::expected<std::string> demo_dir(const std::string& requested) {
  if (requested.empty()) {
    auto tmpl = (std::filesystem::temp_directory_path() / "bulwark-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      return refuse(ec::unavailable, "cannot create a temporary directory");
    return tmpl;
  }
  if (std::filesystem::exists(requested + "/data.mdb"))
    return refuse(ec::invalid_input,
                  requested + ": already holds a journal; the demo needs an empty directory");
  return requested;
}

int run_demo(const demo_args& args) {
  auto dir = demo_dir(args.data);
  if (!dir)
    return fail(dir.error());
  store_options opts;
  opts.dir = *dir;
  opts.create = true;
  auto opened = journal_store::open(opts);
  if (!opened)
    return fail(opened.error());
  std::shared_ptr<journal_store> store = std::move(*opened);
  caf::actor_system_config cfg;
  register_types(cfg);
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  auto j = spawn_journal(sys, store, journal_settings{256});
  if (!j)
    return fail(j.error());
  caf::scoped_actor self{sys};
  virtual_clock clock;
  std::mt19937_64 rng{args.seed};
  caf::error failure;
  auto append = [&](std::vector<event> events) {
    self->request(*j, caf::infinite, atom::append_v, std::move(events))
      .receive([](const appended&) {}, [&](caf::error& err) { failure = err; });
  };
  append(fleet_events(clock));
  fleet_state live;
  self->request(*j, caf::infinite, atom::state_v)
    .receive([&](fleet_state& st) { live = std::move(st); }, [&](caf::error& err) { failure = err; });
  for (unsigned n = 0; n < args.changes && !failure; ++n)
    append(change_events(clock, rng, live, n));
  self->request(*j, caf::infinite, atom::state_v)
    .receive([&](fleet_state& st) { live = std::move(st); }, [&](caf::error& err) { failure = err; });
  self->send_exit(*j, caf::exit_reason::user_shutdown);
  if (failure)
    return fail(failure);
  auto report = store->verify(seq_no{1}, seq_no{UINT64_MAX});
  auto replayed = replay(*store, replay_options{seq_no{UINT64_MAX}, false, false});
  if (!replayed)
    return fail(replayed.error());
  auto live_digest = projection{live}.state_digest();
  bool digests_agree = replayed->state_digest == live_digest;
  uint64_t expected = std::size(services) * std::size(regions) * 12 + 4ull * args.changes;
  bool count_ok = store->head().value == expected;
  bool ok = report.ok && digests_agree && count_ok && store->head().value > 0;
  if (args.json) {
    nlohmann::json out{{"data", *dir}, {"seed", args.seed}, {"events", store->head().value},
                       {"head_chain", to_hex(store->head_chain())},
                       {"chain_verified", report.ok}, {"state_digest", to_hex(live_digest)},
                       {"replay_digest_matches", digests_agree},
                       {"resources", live.resources.size()}, {"invariants_held", ok}};
    std::cout << out.dump(2) << '\n';
  } else {
    std::cout << "Bulwark demo (seed " << args.seed << ", virtual clock)\n"
              << "  " << format_time(caf::timestamp{std::chrono::seconds{1'767'225'600}})
              << "  registered " << live.resources.size() << " resources in "
              << std::size(services) << " services x " << std::size(regions) << " regions\n"
              << "  " << format_time(clock.now) << "  journaled " << args.changes
              << " level-4 changes (decision, start, effect, finish each)\n\n"
              << "Summary\n"
              << "  journal         " << *dir << '\n'
              << "  events          " << store->head().value << '\n'
              << "  head chain      " << to_hex(store->head_chain()) << '\n'
              << "  chain verified  " << (report.ok ? "yes" : "NO: " + report.reason) << '\n'
              << "  state digest    " << to_hex(live_digest) << '\n'
              << "  replay matches  " << (digests_agree ? "yes" : "NO") << '\n'
              << "  invariants      " << (ok ? "all held" : "VIOLATED") << '\n';
  }
  return ok ? exit_ok : exit_integrity;
}

} // namespace

void add_demo_command(CLI::App& app, int& code) {
  auto args = std::make_shared<demo_args>();
  auto* demo = app.add_subcommand("demo", "Run the theme-park scenario on an embedded "
                                          "journal and check its invariants");
  demo->add_option("--data", args->data,
                   "Journal directory (new or empty; default: a fresh temporary one, kept)");
  demo->add_option("--seed", args->seed, "Seed of the scenario; equal seeds give equal journals");
  demo->add_option("--changes", args->changes, "Number of automated changes")
    ->check(CLI::Range(1u, 1000000u));
  demo->add_flag("--json", args->json, "Machine-readable summary");
  demo->callback([args, &code] { code = run_demo(*args); });
}

} // namespace bulwark::cli
