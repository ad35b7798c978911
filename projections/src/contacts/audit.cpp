// Ledger::Audit: the attempts of a period from p_audit, violations first.
#include "tacet/projections/attempts.h"
#include "tacet/projections/ledger.h"

#include <algorithm>
#include <future>

namespace tacet {

bool IsViolation(const ContactAttempted& a) { return a.verdict != StoredVerdict::kAllow; }

namespace {

// Rows are opened a chunk at a time: one walk of the data key store per
// chunk, which a large chunk makes dense (audit.h: memory per chunk).
constexpr size_t kAuditChunk = 65536;

struct Pending {
  AuditRecord rec;
  bool violation = false;
};

struct Chunk {
  std::vector<Pending> rows;
  std::vector<Disclosed> subjects;  // rows[i]'s, once opened
};

// Opens the subjects of a chunk's attempts: the number or address each
// seal holds, or why it does not open. `keys` null: a reader without the
// key store, for whom every seal stays sealed.
Status OpenSubjects(const KeyStore* keys, Chunk& c) {
  std::vector<std::optional<DataKey>> found(c.rows.size());
  if (keys != nullptr) {
    // The store is walked in id order: the chunk's ids sorted, the keys
    // found put back in row order.
    std::vector<uint32_t> order(c.rows.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    auto id = [&](uint32_t i) -> const SubjectId& { return c.rows[i].rec.attempt.subject; };
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return id(a) < id(b); });
    std::vector<SubjectId> ids;
    ids.reserve(order.size());
    for (uint32_t i : order) ids.push_back(id(i));
    std::vector<std::optional<DataKey>> sorted;
    TACET_RETURN_IF_ERROR(keys->GetSorted(ids, &sorted));
    for (size_t j = 0; j < order.size(); ++j) found[order[j]] = sorted[j];
  }
  c.subjects.assign(c.rows.size(), Disclosed{});
  for (size_t i = 0; i < c.rows.size(); ++i) {
    const ContactAttempted& a = c.rows[i].rec.attempt;
    Disclosed& d = c.subjects[i];
    if (a.sealed.bytes.empty() || (keys != nullptr && !found[i])) {
      // Erased: unsealed when recorded, or its key destroyed since.
      d.state = Disclosed::State::kErased;
    } else if (!found[i]) {
      d.state = Disclosed::State::kSealed;
    } else {
      TACET_ASSIGN_OR_RETURN(
          d.fields, OpenPersonal(*found[i], ContactAttempted::kType, a.subject, a.sealed.bytes));
      d.state = Disclosed::State::kOpen;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<AuditTotals> Ledger::Audit(const AuditRequest& req,
                                  const std::function<void(const AuditTotals&)>& counted,
                                  const std::function<void(const AuditRow&)>& row) const {
  if (req.to <= req.from)
    return Status::InvalidArgument("the audit's period is empty: --to " + FormatUtc(req.to) +
                                   " is not after --from " + FormatUtc(req.from));
  const int family = projector_.audit_family();
  if (family < 0) return Status::Internal("the audit projection is not open");
  const std::string lo = AuditRangeStart(req.from);
  const std::string hi = AuditRangeStart(req.to);
  const KeyStore* keys = keys_.get();

  // A pipeline of chunks: while this thread reads the next one and hands
  // the previous one's rows over, another opens the current one's subjects
  // (a data key lookup and an AES-GCM open each; about half the work).
  AuditTotals totals;
  Chunk filling, opening, opened;
  std::future<Status> open_done;
  auto emit = [&](Chunk& c) {
    for (size_t i = 0; i < c.rows.size(); ++i) {
      AuditRow r;
      r.seq = c.rows[i].rec.seq;
      r.recorded_at = c.rows[i].rec.recorded_at;
      r.attempt = &c.rows[i].rec.attempt;
      r.violation = c.rows[i].violation;
      r.subject = std::move(c.subjects[i]);
      row(r);
    }
    c.rows.clear();
  };
  // Sends `filling` to be opened and emits the chunk opened before it.
  auto advance = [&]() -> Status {
    if (open_done.valid()) {
      TACET_RETURN_IF_ERROR(open_done.get());
      std::swap(opened, opening);
    }
    if (!filling.rows.empty()) {
      std::swap(opening, filling);
      open_done = std::async(std::launch::async, OpenSubjects, keys, std::ref(opening));
    }
    emit(opened);
    return Status::Ok();
  };

  Status failed = Status::Ok();
  // Pass 0 counts; pass 1 hands over the violations, pass 2 the others;
  // all three at one moment of the store, so the totals are the rows'
  // while a writer records more.
  const std::unique_ptr<EventLog::Snapshot> moment = log_->NewSnapshot();
  for (int pass = 0; pass < 3; ++pass) {
    Status scanned = log_->ScanRange(
        family, lo, hi,
        [&](std::string_view k, std::string_view v) {
          auto rec = DecodeAuditRecord(k, v);
          if (!rec.ok()) {
            failed = rec.status();
            return false;
          }
          const ContactAttempted& a = rec->attempt;
          if (!req.campaign.empty() && a.campaign != req.campaign) return true;
          const bool violation = IsViolation(a);
          if (pass == 0) {
            const bool unchecked = (a.flags & kAttemptNoPriorCheck) != 0;
            for (AuditTotals::Count* c : {&totals.all, &totals.by_campaign[a.campaign]}) {
              ++c->attempts;
              c->violations += violation;
              c->no_prior_check += unchecked;
            }
            totals.allowed += a.verdict == StoredVerdict::kAllow;
            totals.denied += a.verdict == StoredVerdict::kDeny;
            totals.needs_justification += a.verdict == StoredVerdict::kNeedsJustification;
            if (violation)
              for (const std::string& code : a.reasons) ++totals.by_reason[code];
            return true;
          }
          if (violation != (pass == 1)) return true;
          filling.rows.push_back({std::move(rec).value(), violation});
          if (filling.rows.size() == kAuditChunk) {
            failed = advance();
            if (!failed.ok()) return false;
          }
          return true;
        },
        EventLog::ScanCache::kBypass, moment.get());
    if (scanned.ok()) scanned = failed;
    if (!scanned.ok()) {
      if (open_done.valid()) (void)open_done.get();  // no thread outlives the chunks
      return scanned;
    }
    if (pass == 0) counted(totals);
  }
  // The last chunks: the one being opened, then the one still filling.
  TACET_RETURN_IF_ERROR(advance());
  TACET_RETURN_IF_ERROR(advance());
  return totals;
}

}  // namespace tacet
