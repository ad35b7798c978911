// A file of phone numbers read as an export reads its candidates (issue 2)
// and a list registration its list (issue 18): each distinct valid number
// once, as its digits, with its keyed hash; and the places of such numbers
// in the bytewise order of their SubjectIds, the order their keys are
// written in.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tacet/core/status.h"
#include "tacet/core/subject.h"
#include "tacet/core/subject_id.h"

namespace tacet::internal {

// One number, as digits: a million strings held at once are 64 MB of fresh
// memory, which the kernel zeroes first, against 16 MB.
struct ParsedNumber {
  SubjectId id;
  uint64_t e164 = 0;      // the digits after the "+" (at most 15)
  uint64_t national = 0;  // the national form's digits
  uint8_t national_digits = 0;
};

// A national form's digits, zeros first (e.g. "06...").
std::string_view NationalOf(const ParsedNumber& n, char (&buf)[20]);

struct NumberFileCounts {
  uint64_t lines = 0;                        // values read
  uint64_t invalid = 0;                      // not a phone number
  std::vector<std::string> invalid_samples;  // "line N: reason", the first 5
  uint64_t out_of_scope = 0;                 // valid, refused by in_scope
  uint64_t duplicates = 0;                   // repeated numbers, counted once
};

// The distinct valid numbers of `content` (one per line, or a CSV column:
// ForEachCandidate) that `in_scope` accepts, in the order of their first
// line, each with keyer.Of(its E.164 text). `path` names the file in
// messages.
Result<std::vector<ParsedNumber>> ParseNumberFile(
    std::string_view content, const std::string& path, const std::string& column,
    const SubjectParser& parser, const SubjectKeyer& keyer,
    const std::function<bool(const Subject&)>& in_scope, NumberFileCounts* counts);

// Bytewise order of SubjectIds (the keys' order), decided in one integer
// comparison of their first 8 bytes but for one pair in 2^64.
inline uint64_t BigEndianPrefix(const SubjectId& id) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = v << 8 | id[i];
  return v;
}

// The places 0 .. n - 1 in the bytewise order of their ids, id_of(i). They
// are ordered as (first 8 bytes, place) pairs, which move far faster than
// the (id, place) pairs they stand for: first into buckets by their top 16
// bits, then each bucket (a handful of pairs: the ids are keyed hashes)
// sorted on its own. A rare run of equal prefixes is then ordered by the
// whole ids.
template <class IdOf>
std::vector<uint32_t> OrderById(size_t n, IdOf&& id_of) {
  std::vector<std::pair<uint64_t, uint32_t>> keys(n);
  {
    constexpr int kTopBits = 16;
    std::vector<uint32_t> start((size_t{1} << kTopBits) + 1, 0);
    std::vector<uint64_t> prefix(n);
    for (size_t i = 0; i < n; ++i) {
      prefix[i] = BigEndianPrefix(id_of(i));
      ++start[(prefix[i] >> (64 - kTopBits)) + 1];
    }
    for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; ++i)
      keys[next[prefix[i] >> (64 - kTopBits)]++] = {prefix[i], static_cast<uint32_t>(i)};
    for (size_t b = 0; b + 1 < start.size(); ++b)
      if (start[b + 1] - start[b] > 1)
        std::sort(keys.begin() + start[b], keys.begin() + start[b + 1]);
  }
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = keys[i].second;
  for (size_t from = 0; from < n;) {
    size_t to = from + 1;
    while (to < n && keys[to].first == keys[from].first) ++to;
    if (to - from > 1)
      std::sort(order.begin() + static_cast<std::ptrdiff_t>(from),
                order.begin() + static_cast<std::ptrdiff_t>(to),
                [&](uint32_t a, uint32_t b) { return id_of(a) < id_of(b); });
    from = to;
  }
  return order;
}

}  // namespace tacet::internal
