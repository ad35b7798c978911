#include "../internal/number_file.h"

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "../internal/text.h"

namespace tacet::internal {

namespace {
constexpr size_t kMaxSamples = 5;
const auto& Q = Quote;
}  // namespace

std::string_view NationalOf(const ParsedNumber& n, char (&buf)[20]) {
  uint64_t v = n.national;
  for (int i = n.national_digits - 1; i >= 0; --i, v /= 10)
    buf[i] = static_cast<char>('0' + v % 10);
  return std::string_view(buf, n.national_digits);
}

Result<std::vector<ParsedNumber>> ParseNumberFile(
    std::string_view content, const std::string& path, const std::string& column,
    const SubjectParser& parser, const SubjectKeyer& keyer,
    const std::function<bool(const Subject&)>& in_scope, NumberFileCounts* counts) {
  // Unique, valid, in-scope numbers in input order. Parsed one by one and kept
  // as their two strings: a million Subjects held at once cost more in fresh
  // memory than the parse itself. (Sequential on purpose: libphonenumber's
  // regex cache takes a lock per match, and two threads measured slower.)
  // Digits only, at most `max` of them: their value.
  auto digits_of = [](std::string_view s, size_t max) -> std::optional<uint64_t> {
    if (s.empty() || s.size() > max) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  };
  Status unusual;  // a parsed number not in the forms above (never, from libphonenumber)
  std::vector<ParsedNumber> numbers;
  // At most a number per line; a file of many short or blank lines starts
  // smaller and grows (see `grow` below).
  numbers.reserve(std::min<size_t>(
      static_cast<size_t>(std::count(content.begin(), content.end(), '\n')) + 1, 1u << 22));
  {
    // Each number's keyed hash on a second thread while the next numbers
    // are parsed: it follows the count published here, a slice at a time.
    constexpr size_t kSlice = 4096;
    std::mutex mu;
    std::condition_variable cv, caught_up;
    size_t published = 0;  // guarded by mu
    size_t hashed = 0;     // guarded by mu: the hasher's progress
    bool parsing = true;   // guarded by mu
    auto publish = [&](bool last) {
      {
        std::lock_guard lock(mu);
        published = numbers.size();
        parsing = !last;
      }
      cv.notify_one();
    };
    // Before the vector reallocates: the hasher must be done with it and
    // waiting for more.
    auto grow = [&] {
      publish(false);
      std::unique_lock lock(mu);
      caught_up.wait(lock, [&] { return hashed == published; });
    };
    std::thread hasher([&] {
      for (size_t i = 0;;) {
        size_t n;
        bool more;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return published > i || !parsing; });
          n = published;
          more = parsing;
        }
        char e164[24] = {'+'};
        for (; i < n; ++i) {
          const auto end = std::to_chars(e164 + 1, e164 + sizeof e164, numbers[i].e164).ptr;
          numbers[i].id = keyer.Of(std::string_view(e164, static_cast<size_t>(end - e164)));
        }
        {
          std::lock_guard lock(mu);
          hashed = n;
        }
        caught_up.notify_one();
        if (!more) return;
      }
    });
    struct Join {
      std::thread& t;
      std::function<void(bool)> publish;
      ~Join() {
        publish(true);
        t.join();
      }
    } join{hasher, publish};
    std::unordered_set<std::string> foreign;
    TACET_RETURN_IF_ERROR(internal::ForEachCandidate(
        content, path, column, false, [&](uint64_t line, std::string_view value) {
          ++counts->lines;
          Result<Subject> parsed = parser.ParsePhone(value, false);
          if (!parsed.ok()) {
            if (counts->invalid++ < kMaxSamples)
              counts->invalid_samples.push_back("line " + std::to_string(line) + ": " +
                                                parsed.status().message());
            return;
          }
          Subject& s = parsed.value();
          if (!in_scope(s)) {
            (foreign.insert(std::move(s.value)).second ? counts->out_of_scope
                                                       : counts->duplicates)++;
            return;
          }
          const std::optional<uint64_t> e164 = s.value.size() > 1 && s.value[0] == '+'
                                                   ? digits_of(s.value.substr(1), 15)
                                                   : std::nullopt;
          const std::optional<uint64_t> national = digits_of(s.national, 19);
          if (!e164 || !national) {
            if (unusual.ok())
              unusual = Status::Internal("line " + std::to_string(line) + ": " + Q(s.value) +
                                         " / " + Q(s.national) + " is not an E.164 number" +
                                         " and its national digits");
            return;
          }
          if (numbers.size() == numbers.capacity()) grow();
          numbers.push_back({{}, *e164, *national, static_cast<uint8_t>(s.national.size())});
          if (numbers.size() % kSlice == 0) publish(false);
        }));
  }
  TACET_RETURN_IF_ERROR(unusual);
  // Repeated numbers: the first keeps its place, the others go. An E.164
  // number is at most 15 digits after the "+", its country code never
  // starting with 0: as an integer it names the number exactly, and a
  // million of them sort (beside their places) faster than a hash set of
  // strings fills.
  {
    std::vector<std::pair<uint64_t, uint32_t>> by_value;
    by_value.reserve(numbers.size());
    for (size_t i = 0; i < numbers.size(); ++i)
      by_value.emplace_back(numbers[i].e164, static_cast<uint32_t>(i));
    std::sort(by_value.begin(), by_value.end());
    std::vector<bool> repeated(numbers.size(), false);
    for (size_t i = 1; i < by_value.size(); ++i)
      if (by_value[i].first == by_value[i - 1].first) repeated[by_value[i].second] = true;
    size_t kept = 0;
    for (size_t i = 0; i < numbers.size(); ++i) {
      if (repeated[i]) {
        ++counts->duplicates;
        continue;
      }
      if (kept != i) numbers[kept] = numbers[i];
      ++kept;
    }
    numbers.resize(kept, ParsedNumber{});
  }
  return numbers;
}

}  // namespace tacet::internal
