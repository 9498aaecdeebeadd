#pragma once

/// The engine as a node's console and HTTP API reach it for what goes past their actors:
/// metric samples (`report`), `reconcile` and the policy `reload`. Each is refused once
/// the node stops: the node clears the sink (under its lock, so a call in flight
/// finishes first) before the engine stops.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "bulwark/engine.hpp"
#include "messages/incidents.hpp"

namespace bulwark::cli {

/// The running engine, or none once the node stops.
struct metric_sink {
  std::mutex mtx;
  engine* eng = nullptr;
};

/// Each sample goes the way of `engine::feed_metric`; refused once the node stops.
std::function<bool(const metric_in&)> feed_metric(std::shared_ptr<metric_sink> sink);

/// `reconcile` from the console: the engine's answer as JSON (`ok`, then `proposals` or
/// `code` and `message`); refused once the node stops.
std::function<nlohmann::json(const std::string&, std::chrono::milliseconds)>
reconcile_of(std::shared_ptr<metric_sink> sink);

/// A policy reload's answer as JSON (`ok`, then `changed`, `version`, `previous` and
/// `changes`, or `code` and `message`).
nlohmann::json reload_json(const policy_reload& r);

/// `reload` from the console: refused once the node stops.
std::function<nlohmann::json(const std::string&)> reload_of(std::shared_ptr<metric_sink> sink);

} // namespace bulwark::cli
