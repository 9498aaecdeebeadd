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
    explicit reader(const committed_view& v) : lock_(v.mtx_), proj_(&v.proj_) {
      // nop
    }
    const fleet_state& state() const noexcept {
      return proj_->state();
    }
    const projection& proj() const noexcept {
      return *proj_;
    }

  private:
    std::shared_lock<std::shared_mutex> lock_;
    const projection* proj_;
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

  /// The writer's own read, on its thread, without a lock.
  const projection& owned() const noexcept {
    return proj_;
  }

private:
  mutable std::shared_mutex mtx_;
  projection proj_;
};

} // namespace bulwark
