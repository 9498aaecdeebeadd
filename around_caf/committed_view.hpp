#pragma once

/// The journal's committed projection, shared: the one fleet state of a node.
///
/// The journal actor is its only writer: it applies each committed transaction under the
/// writer lock (`write`) and reads its own projection without a lock (`owned`: no other
/// thread writes). The pipeline and the rollback executor read it under a reader lock
/// (`read`), held for one step of their work and never across a message: they keep no
/// projection of their own, and nothing is copied per commit. A reader sees every commit
/// whose acknowledgement it has received (the journal applies before it answers), and
/// possibly newer ones.

#include <mutex>
#include <shared_mutex>
#include <utility>

#include "persistence/projection.hpp"

namespace bulwark {

class committed_view {
public:
  /// A read of the view: the reader lock, held while the value lives.
  class reader {
  public:
    explicit reader(const committed_view& v)
        : lock_(v.mtx_), proj_(&v.proj_), fleet_changes_(&v.fleet_changes_) {
      // nop
    }
    const fleet_state& state() const noexcept {
      return proj_->state();
    }
    const projection& proj() const noexcept {
      return *proj_;
    }
    /// How many committed records registered or retired a resource so far (in this
    /// process): a reader that keeps something derived from the fleet's resources
    /// recomputes it when this moves.
    uint64_t fleet_changes() const noexcept {
      return *fleet_changes_;
    }

  private:
    std::shared_lock<std::shared_mutex> lock_;
    const projection* proj_;
    const uint64_t* fleet_changes_;
  };

  committed_view() = default;
  explicit committed_view(projection p) : proj_(std::move(p)) {
    // nop
  }
  committed_view(const committed_view&) = delete;
  committed_view& operator=(const committed_view&) = delete;

  /// Reads the view (any thread): the reader lock is held until the result goes.
  reader read() const {
    return reader{*this};
  }

  /// The writer's: runs `f(projection&)` under the writer lock.
  template <class F>
  decltype(auto) write(F&& f) {
    std::unique_lock<std::shared_mutex> guard{mtx_};
    return f(proj_);
  }

  /// The writer's: puts `p` in place of the projection (a journal's start), which counts
  /// as a change of the fleet.
  void reset(projection p) {
    std::unique_lock<std::shared_mutex> guard{mtx_};
    proj_ = std::move(p);
    ++fleet_changes_;
  }

  /// The writer's: applies each entry of `entries` (`seq`, `ev` members) in one write,
  /// counting the fleet's changes; `refused(entry, error)` hears of a record the
  /// projection refused.
  template <class Entries, class Refused>
  void apply(const Entries& entries, Refused refused) {
    std::unique_lock<std::shared_mutex> guard{mtx_};
    for (auto& e : entries) {
      if (auto err = proj_.apply(e.seq, e.ev))
        refused(e, err);
      fleet_changes_ += e.ev.type == event_type::resource_registered
                        || e.ev.type == event_type::resource_retired;
    }
  }

  /// The writer's own read, on its thread, without a lock.
  const projection& owned() const noexcept {
    return proj_;
  }

private:
  mutable std::shared_mutex mtx_;
  projection proj_;
  uint64_t fleet_changes_ = 0;
};

} // namespace bulwark
