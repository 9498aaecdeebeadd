// `bulwark demo`: the theme-park scenario on an embedded engine with a virtual clock.
//
// An automation agent and people propose changes at every authority level; a scripted
// operator approves, denies and interrupts; every kind of refusal is shown. The run ends
// by verifying the chain and replaying the journal. It exits 0 only if every invariant
// held. Equal seeds give equal journals (same head chain).

#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "apps/demo_chaos.hpp"
#include "apps/demo_cluster.hpp"
#include "apps/demo_scenario.hpp"
#include "engine/node_config.hpp"
#include "messages/error.hpp"

namespace bulwark::cli {

namespace {

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

/// The theme park's fleet file: the one installed beside the program (PREFIX/bin/bulwark
/// and PREFIX/share/bulwark/fleet.toml, as the package and `cmake --install` place them),
/// else the source tree's (a program run from its build directory).
std::string default_fleet() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed = exe.parent_path().parent_path() / "share" / "bulwark" / "fleet.toml";
    if (std::filesystem::is_regular_file(installed, ec))
      return installed.string();
  }
  return BULWARK_CONF_DIR "/fleet.toml";
}

int run_demo(const demo_args& args) {
  auto fleet = load_fleet(args.fleet);
  if (!fleet)
    return fail(fleet.error());
  auto dir = demo_dir(args.data);
  if (!dir)
    return fail(dir.error());
  if (args.chaos)
    return run_chaos_demo(args, *dir, std::move(*fleet));
  demo_scenario scenario{args, *dir, std::move(*fleet)};
  auto report = scenario.run();
  if (args.json)
    std::cout << report.dump(2) << '\n';
  else
    scenario.print(std::cout);
  if (!report.value("started", false))
    return exit_runtime;
  return report.value("invariants_held", false) ? exit_ok : exit_integrity;
}

} // namespace

void add_demo_command(CLI::App& app, int& code) {
  auto args = std::make_shared<demo_args>();
  args->fleet = default_fleet();
  auto* demo = app.add_subcommand("demo", "Run the theme-park scenario on an embedded engine "
                                          "(virtual clock) and check its invariants");
  demo->add_option("--data", args->data,
                   "Journal directory (new or empty; default: a fresh temporary one, kept)");
  demo->add_option("--seed", args->seed, "Seed of the scenario; equal seeds give equal journals");
  demo->add_option("--fleet", args->fleet, "Fleet file")->capture_default_str();
  demo->add_flag("--json", args->json, "Machine-readable summary");
  demo->add_flag("--autonomous", args->autonomous,
                 "The incident's rollback runs at level 4 on its own (no operator approval)");
  demo->add_flag("--chaos", args->chaos,
                 "Run the scenario under injected faults instead: every supervised actor "
                 "killed with proposals in flight, journal writes failing, effector failures "
                 "and timeouts, delayed submissions; prints how the engine held and exits 0 "
                 "only if every invariant held");
  auto nodes = std::make_shared<uint32_t>(0);
  auto* cluster = demo->add_option("--cluster", *nodes,
                   "Run the cluster scenario instead on N nodes (2-7) in this process on "
                   "127.0.0.1: replication, routing from a follower, a follower stopped and "
                   "cut off (refusing mutations, serving reads), its catch-up, and equal "
                   "heads and state digests at the end");
  demo->callback([args, nodes, cluster, &code] {
    if (cluster->count() == 0) {
      code = run_demo(*args);
      return;
    }
    cluster_demo_args c;
    c.nodes = *nodes;
    c.data = args->data;
    c.json = args->json;
    code = run_cluster_demo(c);
  });
}

} // namespace bulwark::cli
