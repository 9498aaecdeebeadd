// A minimal host application embedding Bulwark: it registers two ride controllers and an
// effector, submits a level-4 change and a level-1 change that an operator approves, and
// prints what the journal recorded. Built against the installed package with
// find_package(bulwark); no CAF in sight.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include <bulwark/engine.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
    return 1;
  }
  bulwark::engine_options opts;
  opts.data_dir = argv[1];
  opts.admins = {"admin"};
  opts.grants = {{"agent", 4}, {"operator", 4}};
  opts.enforce_enabled = true;
  std::string error;
  auto eng = bulwark::engine::start(opts, &error);
  if (!eng) {
    std::fprintf(stderr, "cannot start: %s\n", error.c_str());
    return 2;
  }
  std::map<std::string, std::string> world;
  eng->register_effector("rides", [&world](const bulwark::effect_request& r) {
    world[r.resource + "/" + r.key] = r.compensation ? r.restore.value_or("") : r.value;
    return bulwark::effect_result{};
  });
  int committed = 0;
  eng->subscribe([&committed](const bulwark::committed_event&) { ++committed; });
  // 40 rides: 5 % of them (the default blast radius) is the two changes below.
  for (int i = 0; i < 40; ++i)
    eng->register_resource("ride-" + std::to_string(i), "rides", "east", {{"speed", "normal"}});

  bulwark::proposal_request p;
  p.idempotency_key = "host-1";
  p.principal = "agent";
  p.level = 4;
  p.services = {"rides"};
  p.regions = {"east"};
  p.changes = {{"ride-3", "speed", "slow"}};
  auto r = eng->submit(p).get();
  std::printf("level 4: %s (%s)\n", r.status.c_str(), r.ok ? "ok" : r.code.c_str());

  // A person's change to another ride, at level 1: it waits for an approval.
  p.idempotency_key = "host-2";
  p.principal = "operator";
  p.level = 1;
  p.changes = {{"ride-4", "speed", "slow"}};
  auto pending = eng->submit(p);
  std::string digest;
  while (digest.empty() && pending.wait_for(std::chrono::milliseconds{1})
                             != std::future_status::ready)
    if (auto waiting = eng->pending(); !waiting.empty())
      digest = waiting.front().proposal;
  if (!digest.empty())
    eng->approve("admin", digest);
  auto r2 = pending.get();
  std::printf("level 1: %s after approval of %.12s\n", r2.status.c_str(), digest.c_str());
  auto head = eng->head();
  std::printf("journal head %llu, chain %s, verified %s\n",
              static_cast<unsigned long long>(head.first), head.second.c_str(),
              eng->verify().ok ? "yes" : "NO");
  eng->stop();
  bool ok = r.ok && r2.ok && world["ride-3/speed"] == "slow" && world["ride-4/speed"] == "slow";
  return ok ? 0 : 3;
}
