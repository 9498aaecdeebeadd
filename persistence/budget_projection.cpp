#include "persistence/budget_projection.hpp"

#include <iterator>

namespace bulwark {

namespace {

/// Erases every charge `drop` holds true for, and the services left without one.
template <class Pred>
void erase_charges(budget_map& budget, Pred drop) {
  for (auto s = budget.begin(); s != budget.end();) {
    for (auto r = s->second.begin(); r != s->second.end();)
      r = drop(r->second) ? s->second.erase(r) : std::next(r);
    s = s->second.empty() ? budget.erase(s) : std::next(s);
  }
}

} // namespace

void charge_budget(budget_map& budget, const budget_charged& x) {
  auto from = x.until - x.window;
  erase_charges(budget, [from](const budget_charge& c) { return c.until <= from; });
  for (auto& e : x.entries)
    budget[e.service][e.resource.value] = budget_charge{e.region, x.proposal, x.until};
}

void release_resource(budget_map& budget, const std::string& service,
                      const std::string& resource) {
  auto s = budget.find(service);
  if (s == budget.end())
    return;
  s->second.erase(resource);
  if (s->second.empty())
    budget.erase(s);
}

void release_proposal(budget_map& budget, const digest& proposal) {
  erase_charges(budget, [&](const budget_charge& c) { return c.proposal == proposal; });
}

} // namespace bulwark
