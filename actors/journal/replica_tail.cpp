#include "actors/journal/replica_tail.hpp"

#include <cstring>
#include <utility>

#include "persistence/record.hpp"

namespace bulwark {

replica_tail::replica_tail(uint64_t max_bytes) : max_bytes_(max_bytes) {
}

void replica_tail::add(seq_no first, std::vector<std::vector<uint8_t>> records) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto next = first_ + records_.size();
  if (!records_.empty() && first.value < next) {
    // Held records at these seqs were never committed: they are replaced, and whoever
    // took them holds records this journal does not.
    withdrawn_ = true;
    while (!records_.empty() && first_ + records_.size() > first.value) {
      bytes_ -= records_.back().size();
      records_.pop_back();
    }
  }
  if (records_.empty() || first.value != first_ + records_.size()) {
    records_.clear();
    bytes_ = 0;
    first_ = first.value;
  }
  newest_size_ = records.size();
  for (auto& r : records) {
    bytes_ += r.size();
    records_.push_back(std::move(r));
  }
  trim();
}

void replica_tail::withdraw(seq_no from) {
  std::lock_guard<std::mutex> guard{mtx_};
  withdrawn_ = true;
  while (!records_.empty() && first_ + records_.size() > from.value) {
    bytes_ -= records_.back().size();
    records_.pop_back();
  }
  newest_size_ = 0;
}

bool replica_tail::take_withdrawn() {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::exchange(withdrawn_, false);
}

void replica_tail::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  records_.clear();
  bytes_ = 0;
  first_ = 0;
  newest_size_ = 0;
}

seq_no replica_tail::head() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return seq_no{records_.empty() ? 0 : first_ + records_.size() - 1};
}

bool replica_tail::read(seq_no from, uint32_t max, uint64_t max_bytes,
                        std::vector<std::vector<uint8_t>>& out) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (records_.empty() || from.value < first_ || from.value >= first_ + records_.size())
    return false;
  uint64_t bytes = 0;
  for (auto i = from.value - first_; i < records_.size() && out.size() < max && bytes < max_bytes;
       ++i) {
    bytes += records_[i].size();
    out.push_back(records_[i]);
  }
  return true;
}

caf::optional<digest> replica_tail::chain_at(seq_no seq) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (records_.empty() || seq.value < first_ || seq.value >= first_ + records_.size())
    return caf::none;
  auto& r = records_[seq.value - first_];
  if (r.size() < chain_size)
    return caf::none;
  digest d;
  std::memcpy(d.bytes.data(), r.data(), chain_size);
  return d;
}

void replica_tail::trim() {
  while (bytes_ > max_bytes_ && records_.size() > newest_size_) {
    bytes_ -= records_.front().size();
    records_.pop_front();
    ++first_;
  }
}

} // namespace bulwark
