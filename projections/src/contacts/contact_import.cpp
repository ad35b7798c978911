// Ledger::ImportContacts: a dialer's call-detail export as one batch.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include "../../internal/text.h"
#include "tacet/core/codec.h"
#include "tacet/core/personal.h"
#include "tacet/core/utf8.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

const auto& Q = internal::Quote;

constexpr size_t kMaxErrors = 20;
constexpr size_t kMaxFieldBytes = 256;

enum Column {
  kSubject,
  kStarted,
  kOutcome,
  kChannel,
  kCampaign,
  kCallerId,
  kOperator,
  kDuration,
  kDecision,
  kColumns
};

// Header names (lower case) of each column.
int ColumnOf(std::string_view name) {
  static const std::pair<const char*, Column> kNames[] = {
      {"subject", kSubject},   {"phone", kSubject},     {"number", kSubject},
      {"email", kSubject},     {"started", kStarted},   {"outcome", kOutcome},
      {"channel", kChannel},   {"campaign", kCampaign}, {"caller_id", kCallerId},
      {"operator", kOperator}, {"duration", kDuration}, {"decision", kDecision}};
  for (const auto& [n, c] : kNames)
    if (name == n) return c;
  return -1;
}

const char* kColumnNames[] = {"subject",   "started",  "outcome",  "channel", "campaign",
                              "caller_id", "operator", "duration", "decision"};

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

struct SubjectIdHash {
  size_t operator()(const SubjectId& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};

// One attempt of the file, parsed.
struct Row {
  uint64_t line = 0;
  Subject subject;
  SubjectId id{};
  Channel channel = Channel::kVoice;
  TimeMs started = 0;
  const OutcomeDefined* outcome = nullptr;
  std::string campaign, caller_id, operator_id;
  uint32_t duration = 0;
  uint64_t decision = 0;
};

}  // namespace

Result<ContactImportReport> Ledger::ImportContacts(const ContactImportRequest& req,
                                                   const Actor& actor) {
  std::string owned;
  if (!req.content) {
    TACET_ASSIGN_OR_RETURN(owned, internal::ReadFile(req.path, internal::kMaxFileBytes));
  }
  const std::string_view content = req.content ? std::string_view(*req.content) : owned;
  const std::string& path = req.path;
  if (auto bad = CheckUtf8File(content, path)) return Status::InvalidArgument(*bad);
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  const TimeMs now = clock_->NowMs();
  std::map<std::string, OutcomeDefined, std::less<>> outcomes;
  {
    std::shared_lock lock(policy_mu_);
    for (const auto& [code, v] : current_policy_.outcomes) outcomes.emplace(code, v.value);
  }

  internal::LineReader lines(content);
  internal::Line header;
  if (!lines.Next(&header))
    return Status::InvalidArgument(path + ": empty: no header, no attempt; nothing was recorded");
  char sep = ',';
  for (char c : {';', '\t', ','})
    if (header.text.find(c) != std::string_view::npos) {
      sep = c;
      break;
    }
  std::vector<std::string> fields;
  if (!internal::SplitCsv(header.text, sep, &fields))
    return Status::InvalidArgument(path + ":" + std::to_string(header.number) +
                                   ": unterminated quote in the header");
  int where[kColumns];
  std::fill(std::begin(where), std::end(where), -1);
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string h = fields[i];
    std::transform(h.begin(), h.end(), h.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    const int c = ColumnOf(h);
    if (c < 0) continue;
    if (where[c] >= 0)
      return Status::InvalidArgument(path + ":" + std::to_string(header.number) + ": column " +
                                     Q(fields[i]) + " names " + kColumnNames[c] +
                                     " a second time; nothing was recorded");
    where[c] = static_cast<int>(i);
  }
  for (Column c : {kSubject, kStarted, kOutcome})
    if (where[c] < 0)
      return Status::InvalidArgument(path + ":" + std::to_string(header.number) +
                                     ": the header has no " + kColumnNames[c] +
                                     " column (required: subject, started, outcome); nothing "
                                     "was recorded");

  std::vector<Row> rows;
  // One row per line at most: reserved once, not regrown (a million rows
  // regrown would copy and touch twice the memory).
  rows.reserve(static_cast<size_t>(std::count(content.begin(), content.end(), '\n')) + 1);
  std::vector<std::string> errors;
  uint64_t bad_lines = 0;
  internal::Line l;
  while (lines.Next(&l)) {
    std::string why;
    auto field = [&](Column c) -> std::string_view {
      return where[c] >= 0 && static_cast<size_t>(where[c]) < fields.size()
                 ? std::string_view(fields[where[c]])
                 : std::string_view();
    };
    auto fail = [&](Column c, std::string_view value, const std::string& what) {
      if (why.empty())
        why = path + ":" + std::to_string(l.number) + ": " + kColumnNames[c] + " " + Q(value) +
              ": " + what;
    };
    Row r;
    r.line = l.number;
    if (!internal::SplitCsv(l.text, sep, &fields)) {
      why = path + ":" + std::to_string(l.number) + ": unterminated quote";
    } else {
      auto subject = parser_.Parse(field(kSubject));
      if (!subject.ok()) {
        fail(kSubject, field(kSubject), subject.status().message());
      } else {
        r.subject = std::move(subject).value();
      }
      if (std::string_view ch = field(kChannel); !ch.empty()) {
        auto c = ParseChannel(ch);
        if (c.ok()) {
          r.channel = *c;
        } else {
          fail(kChannel, ch, c.status().message());
        }
      } else if (why.empty() && r.subject.kind == SubjectKind::kEmail) {
        r.channel = Channel::kEmail;
      }
      if (why.empty()) {
        if (Status fits = ChannelFits(r.subject, r.channel); !fits.ok())
          fail(kChannel, ChannelName(r.channel), fits.message());
      }
      auto started = zone_.Parse(field(kStarted));
      if (!started.ok()) {
        fail(kStarted, field(kStarted), started.status().message());
      } else if (*started > now) {
        fail(kStarted, field(kStarted), "after its recording (now " + FormatUtc(now) + ")");
      } else {
        r.started = *started;
      }
      auto o = outcomes.find(field(kOutcome));
      if (o == outcomes.end()) {
        fail(kOutcome, field(kOutcome), "not an outcome code in force (see 'tacet policy')");
      } else {
        r.outcome = &o->second;
      }
      for (auto [c, out] : {std::pair{kCampaign, &r.campaign}, std::pair{kCallerId, &r.caller_id},
                            std::pair{kOperator, &r.operator_id}}) {
        std::string_view v = field(c);
        if (v.size() > kMaxFieldBytes) fail(c, v, "longer than 256 bytes");
        *out = std::string(v);
      }
      if (std::string_view d = field(kDuration); !d.empty()) {
        uint64_t v = 0;
        if (!ParseU64(d, &v) || v > UINT32_MAX) {
          fail(kDuration, d, "not a number of seconds");
        } else {
          r.duration = static_cast<uint32_t>(v);
        }
      }
      if (std::string_view d = field(kDecision); !d.empty()) {
        if (!ParseU64(d, &r.decision) || r.decision == 0 || r.decision > log_->head().seq)
          fail(kDecision, d, "not the seq of a recorded event");
      }
    }
    if (!why.empty()) {
      if (errors.size() < kMaxErrors) errors.push_back(std::move(why));
      ++bad_lines;
      continue;
    }
    r.id = keyer_->Of(r.subject.value);
    rows.push_back(std::move(r));
  }
  if (bad_lines > 0) {
    std::string msg = std::to_string(bad_lines) + " bad line" + (bad_lines > 1 ? "s" : "") +
                      "; nothing was recorded:";
    for (const auto& e : errors) msg += "\n  " + e;
    if (bad_lines > errors.size())
      msg += "\n  and " + std::to_string(bad_lines - errors.size()) + " more";
    return Status::InvalidArgument(msg);
  }
  if (rows.empty())
    return Status::InvalidArgument(path + ": no attempt after the header; nothing was recorded");

  // The checks cited: each a recorded check of its row's subject and channel.
  std::vector<uint8_t> prior(rows.size(), 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    if (r.decision == 0) continue;
    TACET_ASSIGN_OR_RETURN(Event e, log_->Read(r.decision));
    TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(e.type, e.version, e.payload));
    const auto* check = std::get_if<CheckRecorded>(&p);
    if (check == nullptr || check->subject != r.id || check->channel != r.channel)
      errors.push_back(path + ":" + std::to_string(r.line) + ": decision " +
                       std::to_string(r.decision) + " is not a recorded check of " +
                       r.subject.value + " on " + ChannelName(r.channel));
    prior[i] = e.recorded_at <= r.started;
  }
  if (!errors.empty()) {
    std::string msg = std::to_string(errors.size()) + " bad citation" +
                      (errors.size() > 1 ? "s" : "") + "; nothing was recorded:";
    for (size_t i = 0; i < errors.size() && i < kMaxErrors; ++i) msg += "\n  " + errors[i];
    return Status::InvalidArgument(msg);
  }

  // Attempts come first in the batch, in file order (seq = first + i); the
  // blocks their outcomes imply follow them. A cap counts, for each line,
  // the store's attempts and the file's earlier lines about its subject.
  const uint64_t first = log_->head().seq + 1;
  // Only lines that some cap of the policy's history may cover need their
  // subject's earlier lines: most files (and every Italian one without a
  // cap) build nothing here.
  std::vector<uint8_t> may_be_capped(rows.size(), 0);
  bool any_capped = false;
  {
    std::shared_lock lock(policy_mu_);
    for (size_t i = 0; i < rows.size(); ++i)
      for (const auto& [name, versions] : policy_.caps)
        for (const auto& v : versions)
          // (an attempt counts for a cap that covers its own channel and
          // campaign: the same test)
          if (CapCovers(v.value, rows[i].subject.region, rows[i].channel, rows[i].campaign)) {
            may_be_capped[i] = 1;
            any_capped = true;
          }
  }
  std::unordered_map<SubjectId, std::vector<AttemptEntry>, SubjectIdHash> earlier;
  std::vector<uint32_t> earlier_count(rows.size(), 0);
  if (any_capped) {
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!may_be_capped[i]) continue;
      std::vector<AttemptEntry>& list = earlier[rows[i].id];
      earlier_count[i] = static_cast<uint32_t>(list.size());
      list.push_back(AttemptEntry{rows[i].started, first + i, now, rows[i].channel,
                                  rows[i].outcome->effects, rows[i].campaign});
    }
  }

  const size_t n = rows.size();
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, n + n / 16));
  // Each attempt seals its subject under the subject's data key; the keys
  // missing are made a chunk at a time in memory and written together
  // (KeyStore::Bulk), durable before the commit. An erased subject has none
  // and gets none: its attempt is recorded unsealed.
  if (keys_ == nullptr) return Status::FailedPrecondition("the data key store is not open");
  TACET_ASSIGN_OR_RETURN(std::unique_ptr<KeyStore::Bulk> bulk, keys_->StartBulk());
  std::vector<SubjectId> chunk_ids;
  ContactImportReport rep;
  rep.lines = n;
  // The lines whose outcome blocks, with their subject's data key: the
  // block's reason is sealed under it (looked up again, a million keys
  // just ingested would cost a read of a cold block each).
  struct Blocking {
    size_t row;
    DataKey key;
  };
  std::vector<Blocking> blocking;
  constexpr size_t kChunk = 4096;
  std::vector<DecisionAnswer> answers;
  for (size_t from = 0; from < n; from += kChunk) {
    const size_t to = std::min(n, from + kChunk);
    answers.resize(to - from);
    for (size_t i = from; i < to; ++i) {
      DecisionAnswer& a = answers[i - from];
      a.subject = rows[i].subject;
      a.subject_id = rows[i].id;
      a.channel = rows[i].channel;
      a.at = rows[i].started;
      a.known_at = kKnownNow;
      a.explain = Explain::kCodes;
      a.campaign = rows[i].campaign;
      a.decision = Decision{};
      a.batch_attempts = {};
      if (earlier_count[i] > 0) {
        const std::vector<AttemptEntry>& list = earlier.at(rows[i].id);
        a.batch_attempts = std::span<const AttemptEntry>(list.data(), earlier_count[i]);
      }
    }
    TACET_RETURN_IF_ERROR(DecideAll(answers));
    chunk_ids.clear();
    for (size_t i = from; i < to; ++i)
      if (!answers[i - from].subject_erased) chunk_ids.push_back(rows[i].id);
    TACET_ASSIGN_OR_RETURN(std::vector<DataKey> keys, bulk->GetOrCreate(chunk_ids));
    size_t next_key = 0;
    for (size_t i = from; i < to; ++i) {
      Row& r = rows[i];
      const Decision& d = answers[i - from].decision;
      ContactAttempted a;
      a.subject = r.id;
      a.channel = r.channel;
      a.started_at = r.started;
      a.outcome = r.outcome->code;
      a.effects = r.outcome->effects;
      a.campaign = std::move(r.campaign);
      a.caller_id = std::move(r.caller_id);
      a.operator_id = std::move(r.operator_id);
      a.duration_s = r.duration;
      a.decision_seq = r.decision;
      a.verdict = StoredVerdictOf(d.verdict);
      for (const DecisionReason& reason : d.reasons) a.reasons.push_back(reason.code);
      a.evidence = d.evidence;
      a.flags = prior[i] ? 0 : kAttemptNoPriorCheck;
      if (!answers[i - from].subject_erased) {
        const DataKey& key = keys[next_key++];
        TACET_ASSIGN_OR_RETURN(a.sealed.bytes, SealPersonal(key, ContactAttempted::kType, r.id,
                                                            Personal{r.subject.value, ""}));
        if (r.outcome->blocks != 0) blocking.push_back({i, key});
      }
      rep.allowed += d.verdict == Verdict::kAllow;
      rep.denied += d.verdict == Verdict::kDeny;
      rep.needs_justification += d.verdict == Verdict::kNeedsJustification;
      rep.no_prior_check += !prior[i];
      const Payload p = std::move(a);
      const Event& e = batch.Add(p);
      TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
    }
  }
  TACET_RETURN_IF_ERROR(bulk->Finish());
  bulk.reset();
  // Every key the attempts and blocks are sealed under is durable before
  // any of them is (core/FORMAT.md, data key store).
  if (options_.sync) TACET_RETURN_IF_ERROR(keys_->Sync());
  // An erased subject stays suppressed without a block (and without the
  // data key a block's sealed reason needs): DecideAll found it erased and
  // its lines were left out of `blocking`.
  for (const auto& [i, key] : blocking) {
    const Row& r = rows[i];
    const std::string reason = "outcome " + r.outcome->code + " of the attempt started " +
                               FormatUtc(r.started) + " (" + path + ":" + std::to_string(r.line) +
                               ")";
    Blocked blocked{r.id, r.outcome->blocks, "call_outcome", {}};
    TACET_ASSIGN_OR_RETURN(blocked.sealed.bytes, SealPersonal(key, Blocked::kType, r.id,
                                                              Personal{r.subject.value, reason}));
    const Payload b = std::move(blocked);
    const Event& e = batch.Add(b);
    TACET_RETURN_IF_ERROR(projector_.Apply(e, b, batch));
    ++rep.blocks;
  }
  rep.first_seq = batch.first_seq();
  rep.last_seq = batch.last_seq();
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  rep.recorded = n;
  return rep;
}

}  // namespace tacet
