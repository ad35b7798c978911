// Ledger::ImportContacts: a dialer's call-detail export as one batch.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "../../internal/producer.h"
#include "../provenance/caller_check.h"
#include "call_detail_file.h"
#include "tacet/core/codec.h"
#include "tacet/core/personal.h"
#include "tacet/core/utf8.h"
#include "tacet/projections/ledger.h"

namespace tacet {
namespace {

using contacts::CallDetailChunk;
using contacts::CallDetailFile;
using contacts::CallDetailRow;

// Lines parsed at a time: a chunk's rows are decided together (a MultiGet
// each) and their memory is reused for the next.
constexpr size_t kChunkLines = 4096;

struct SubjectIdHash {
  size_t operator()(const SubjectId& id) const {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
  }
};

// What a block implied by a line's outcome needs once the line's row is
// gone: the blocks follow every attempt in the batch.
struct PendingBlock {
  SubjectId id;
  std::string subject;  // the number, sealed in the block's reason
  ChannelMask channels = 0;
  std::string reason;
  DataKey key;  // the subject's, made or found for its attempt
};

std::string ErrorList(uint64_t count, const char* what, const std::vector<std::string>& errors) {
  std::string msg =
      std::to_string(count) + " " + what + (count > 1 ? "s" : "") + "; nothing was recorded:";
  for (const std::string& e : errors) msg += "\n  " + e;
  if (count > errors.size()) msg += "\n  and " + std::to_string(count - errors.size()) + " more";
  return msg;
}

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
  if (keys_ == nullptr) return Status::FailedPrecondition("the data key store is not open");
  const TimeMs now = clock_->NowMs();
  contacts::CallDetailContext context;
  context.parser = &parser_;
  context.zone = &zone_;
  context.keyer = keyer_.get();
  context.now = now;
  context.head_seq = log_->head().seq;
  {
    std::shared_lock lock(policy_mu_);
    for (const auto& [code, v] : current_policy_.outcomes) context.outcomes.emplace(code, v.value);
  }
  TACET_ASSIGN_OR_RETURN(CallDetailFile file, CallDetailFile::Open(content, path, context));

  // The file is parsed on a thread of its own while the batch records the
  // chunk before: a line costs as much to parse (a phone number, a time, a
  // keyed hash) as to decide and record. Nothing is committed before the
  // last line is read, so a bad line anywhere still records nothing.
  internal::Producer<CallDetailChunk> chunks(
      [&file](const internal::Producer<CallDetailChunk>::Yield& yield) {
        CallDetailChunk c;
        while (file.Next(kChunkLines, &c))
          if (!yield(std::move(c))) return;
      });

  // Attempts come first in the batch, in file order (seq = first + i); the
  // blocks their outcomes imply follow them. A cap counts, for each line,
  // the store's attempts and the file's earlier lines about its subject.
  const uint64_t first = context.head_seq + 1;
  const size_t expected = file.MaxRows();
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, expected + expected / 16));
  // Each attempt seals its subject under the subject's data key; the keys
  // missing are made a chunk at a time in memory and written together
  // (KeyStore::Bulk), durable before the commit. An erased subject has none
  // and gets none: its attempt is recorded unsealed.
  TACET_ASSIGN_OR_RETURN(std::unique_ptr<KeyStore::Bulk> bulk, keys_->StartBulk());
  // Only lines that some cap of the policy's history may cover need their
  // subject's earlier lines: most files (and every Italian one without a
  // cap) keep nothing here.
  std::unordered_map<SubjectId, std::vector<AttemptEntry>, SubjectIdHash> earlier;
  std::vector<uint32_t> earlier_count;
  ContactImportReport rep;
  uint64_t bad_lines = 0, bad_citations = 0;
  std::vector<std::string> errors, citation_errors;
  std::vector<PendingBlock> blocking;
  std::vector<uint8_t> prior, unregistered;
  std::vector<DecisionAnswer> answers;
  std::vector<SubjectId> chunk_ids;
  size_t n = 0;  // rows recorded so far
  while (std::optional<CallDetailChunk> chunk = chunks.Next()) {
    bad_lines += chunk->bad_lines;
    for (std::string& e : chunk->errors) errors.push_back(std::move(e));
    std::vector<CallDetailRow>& rows = chunk->rows;
    if (bad_lines > 0 || rows.empty()) continue;  // then the file's errors are all that counts

    // The checks cited: each a recorded check of its row's subject and
    // channel, made before the attempt started (else it is flagged).
    prior.assign(rows.size(), 0);
    for (size_t i = 0; i < rows.size(); ++i) {
      const CallDetailRow& r = rows[i];
      if (r.decision == 0) continue;
      TACET_ASSIGN_OR_RETURN(Event e, log_->Read(r.decision));
      TACET_ASSIGN_OR_RETURN(Payload p, DecodePayload(e.type, e.version, e.payload));
      const auto* check = std::get_if<CheckRecorded>(&p);
      if (check == nullptr || check->subject != r.id || check->channel != r.channel) {
        ++bad_citations;
        if (citation_errors.size() < CallDetailFile::kMaxErrors)
          citation_errors.push_back(path + ":" + std::to_string(r.line) + ": decision " +
                                    std::to_string(r.decision) + " is not a recorded check of " +
                                    r.subject.value + " on " + ChannelName(r.channel));
      }
      prior[i] = e.recorded_at <= r.started;
    }
    if (bad_citations > 0) continue;

    // The file's earlier lines each line's caps may count: this chunk's
    // are added first, so the spans below stay put while it is decided.
    earlier_count.assign(rows.size(), 0);
    {
      std::shared_lock lock(policy_mu_);
      for (size_t i = 0; i < rows.size(); ++i) {
        const CallDetailRow& r = rows[i];
        bool capped = false;
        for (const auto& [name, versions] : policy_.caps)
          for (const auto& v : versions)
            // (an attempt counts for a cap that covers its own channel and
            // campaign: the same test)
            capped = capped || CapCovers(v.value, r.subject.region, r.channel, r.campaign);
        if (!capped) continue;
        std::vector<AttemptEntry>& list = earlier[r.id];
        earlier_count[i] = static_cast<uint32_t>(list.size());
        list.push_back(
            AttemptEntry{r.started, first + n + i, now, r.channel, r.outcome->effects, r.campaign});
      }
    }

    // Caller ids (issue 18), checked against those in force at each start.
    unregistered.assign(rows.size(), false);
    {
      std::shared_lock lock(policy_mu_);
      for (size_t i = 0; i < rows.size(); ++i)
        unregistered[i] = internal::CallerUnregistered(policy_, parser_, rows[i].caller_id,
                                                       rows[i].campaign, rows[i].started);
    }

    answers.resize(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      DecisionAnswer& a = answers[i];
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
    for (size_t i = 0; i < rows.size(); ++i)
      if (!answers[i].subject_erased) chunk_ids.push_back(rows[i].id);
    TACET_ASSIGN_OR_RETURN(std::vector<DataKey> keys, bulk->GetOrCreate(chunk_ids));
    size_t next_key = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      CallDetailRow& r = rows[i];
      const Decision& d = answers[i].decision;
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
      if (unregistered[i]) a.flags |= kAttemptUnregisteredCaller;
      // An erased subject stays suppressed without a block (and without
      // the data key a block's sealed reason needs).
      if (!answers[i].subject_erased) {
        const DataKey& key = keys[next_key++];
        TACET_ASSIGN_OR_RETURN(a.sealed.bytes, SealPersonal(key, ContactAttempted::kType, r.id,
                                                            Personal{r.subject.value, ""}));
        if (r.outcome->blocks != 0)
          blocking.push_back({r.id, r.subject.value, r.outcome->blocks,
                              "outcome " + r.outcome->code + " of the attempt started " +
                                  FormatUtc(r.started) + " (" + path + ":" +
                                  std::to_string(r.line) + ")",
                              key});
      }
      rep.allowed += d.verdict == Verdict::kAllow;
      rep.denied += d.verdict == Verdict::kDeny;
      rep.needs_justification += d.verdict == Verdict::kNeedsJustification;
      rep.no_prior_check += !prior[i];
      rep.unregistered_caller += unregistered[i];
      const Payload p = std::move(a);
      const Event& e = batch.Add(p);
      TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
    }
    n += rows.size();
  }
  if (bad_lines > 0) return Status::InvalidArgument(ErrorList(bad_lines, "bad line", errors));
  if (bad_citations > 0)
    return Status::InvalidArgument(ErrorList(bad_citations, "bad citation", citation_errors));
  if (n == 0)
    return Status::InvalidArgument(path + ": no attempt after the header; nothing was recorded");

  TACET_RETURN_IF_ERROR(bulk->Finish());
  bulk.reset();
  // Every key the attempts and blocks are sealed under is durable before
  // any of them is (core/FORMAT.md, data key store).
  if (options_.sync) TACET_RETURN_IF_ERROR(keys_->Sync());
  for (PendingBlock& b : blocking) {
    Blocked blocked{b.id, b.channels, "call_outcome", {}};
    TACET_ASSIGN_OR_RETURN(blocked.sealed.bytes,
                           SealPersonal(b.key, Blocked::kType, b.id,
                                        Personal{std::move(b.subject), std::move(b.reason)}));
    const Payload p = std::move(blocked);
    const Event& e = batch.Add(p);
    TACET_RETURN_IF_ERROR(projector_.Apply(e, p, batch));
    ++rep.blocks;
  }
  rep.lines = n;
  rep.first_seq = batch.first_seq();
  rep.last_seq = batch.last_seq();
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  rep.recorded = n;
  return rep;
}

}  // namespace tacet
