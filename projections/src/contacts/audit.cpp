// Ledger::Audit: the attempts of a period from p_audit, violations first.
#include "tacet/projections/attempts.h"
#include "tacet/projections/ledger.h"

#include <algorithm>
#include <future>
#include <set>

namespace tacet {

bool IsViolation(const ContactAttempted& a) {
  return a.verdict != StoredVerdict::kAllow || (a.flags & kAttemptUnregisteredCaller) != 0;
}

namespace {

// Rows are opened a chunk at a time: one walk of the data key store per
// chunk, which a large chunk makes dense (audit.h: memory per chunk).
constexpr size_t kAuditChunk = 65536;

struct Pending {
  AuditRecord rec;
  bool violation = false;
};

// The registered lists by the seqs of their members (a list_registered at
// seq s is followed in its batch by its members, s + 1 .. s + count): the
// suppliers an attempt's evidence names.
class ListsBySeq {
 public:
  explicit ListsBySeq(const std::map<uint64_t, Versioned<ListRegistered>>& lists) {
    for (const auto& [id, l] : lists) {
      ranges_.push_back({l.seq + 1, l.seq + l.value.number_count, &l.value});
      campaigns_.insert(l.value.campaign);
    }
    std::sort(ranges_.begin(), ranges_.end(),
              [](const Range& a, const Range& b) { return a.first < b.first; });
  }
  bool HasLists(const std::string& campaign) const { return campaigns_.count(campaign) != 0; }
  // The suppliers of the lists whose members `evidence` cites, in its order.
  void Suppliers(const std::vector<uint64_t>& evidence, std::vector<std::string>* out) const {
    out->clear();
    for (uint64_t seq : evidence) {
      auto it = std::upper_bound(ranges_.begin(), ranges_.end(), seq,
                                 [](uint64_t s, const Range& r) { return s < r.first; });
      if (it == ranges_.begin()) continue;
      --it;
      if (seq <= it->last && std::find(out->begin(), out->end(), it->list->supplier) == out->end())
        out->push_back(it->list->supplier);
    }
  }

 private:
  struct Range {
    uint64_t first, last;
    const ListRegistered* list;
  };
  std::vector<Range> ranges_;
  std::set<std::string> campaigns_;
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
  // The lists as registered now (a copy: the writer may reload the policy).
  std::map<uint64_t, Versioned<ListRegistered>> registered;
  {
    std::shared_lock lock(policy_mu_);
    registered = policy_.lists;
  }
  const ListsBySeq lists(registered);
  std::vector<std::string> suppliers;
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
      lists.Suppliers(r.attempt->evidence, &r.suppliers);
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
            const bool unregistered = (a.flags & kAttemptUnregisteredCaller) != 0;
            for (AuditTotals::Count* c : {&totals.all, &totals.by_campaign[a.campaign]}) {
              ++c->attempts;
              c->violations += violation;
              c->no_prior_check += unchecked;
              c->unregistered_caller += unregistered;
            }
            totals.allowed += a.verdict == StoredVerdict::kAllow;
            totals.denied += a.verdict == StoredVerdict::kDeny;
            totals.needs_justification += a.verdict == StoredVerdict::kNeedsJustification;
            // (`on_list` says where the number came from: no reason of a
            // violation.)
            if (violation && a.verdict != StoredVerdict::kAllow)
              for (const std::string& code : a.reasons)
                if (code != "on_list") ++totals.by_reason[code];
            if (unregistered) ++totals.by_reason["unregistered_caller_id"];
            if (lists.HasLists(a.campaign)) {
              lists.Suppliers(a.evidence, &suppliers);
              if (suppliers.empty()) suppliers.emplace_back();
              const bool listed = std::find(a.reasons.begin(), a.reasons.end(),
                                            "registry_listed") != a.reasons.end();
              const bool complaint = (a.effects & kOutcomeRefusal) != 0;
              for (const std::string& s : suppliers) {
                AuditTotals::SupplierCount& c = totals.by_supplier[s];
                ++c.attempts;
                c.listed += listed;
                c.complaints += complaint;
              }
            }
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
