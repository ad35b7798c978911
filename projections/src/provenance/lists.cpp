// Lists of numbers acquired for a campaign (issue 18: provenance; the 2024
// Italian code of conduct, art. 14 and 16): where each came from, and each
// number's membership, recorded in bulk as an export records its session.
#include <filesystem>

#include "../../internal/dates.h"
#include "../../internal/label.h"
#include "../../internal/number_file.h"
#include "../../internal/text.h"
#include "tacet/core/hash.h"
#include "tacet/projections/ledger.h"

namespace tacet {

namespace {
const auto& Q = internal::Quote;
}  // namespace

Result<ListReport> Ledger::RegisterList(const ListRequest& req, const Actor& actor) {
  TACET_RETURN_IF_ERROR(internal::CheckLabel("--campaign", req.campaign, 256));
  TACET_RETURN_IF_ERROR(internal::CheckLabel("--supplier", req.supplier, 256));
  TACET_RETURN_IF_ERROR(internal::CheckLabel("--basis", req.basis, 256));
  TACET_RETURN_IF_ERROR(internal::CheckLabel("--consent-text", req.consent_text, 256, true));
  const TimeMs now = clock_->NowMs();
  TACET_ASSIGN_OR_RETURN(const Day acquired,
                         internal::PastOrToday("--acquired", req.acquired, zone_, now));
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);

  std::string read;
  if (!req.content) {
    TACET_ASSIGN_OR_RETURN(read, internal::ReadFile(req.path, internal::kMaxFileBytes));
  }
  const std::string_view content = req.content ? *req.content : read;
  ListReport rep;
  rep.file_sha256 = Sha256(content);

  ListRegistered list;
  {
    std::shared_lock lock(policy_mu_);
    if (current_policy_.Campaign(req.campaign) == nullptr)
      return Status::NotFound("campaign " + Q(req.campaign) +
                              " is not defined (tacet campaign define); nothing was recorded");
    for (const auto& [id, l] : policy_.lists)
      if (l.value.campaign == req.campaign && l.value.file_sha256 == rep.file_sha256)
        return Status::AlreadyExists(req.path + " is list " + std::to_string(id) + " of campaign " +
                                     req.campaign + " already (registered " +
                                     FormatUtc(l.recorded_at) + "); nothing was recorded");
    list.list_id = policy_.lists.empty() ? 1 : policy_.lists.rbegin()->first + 1;
  }

  internal::NumberFileCounts counts;
  TACET_ASSIGN_OR_RETURN(std::vector<internal::ParsedNumber> numbers,
                         internal::ParseNumberFile(
                             content, req.path, req.column, parser_, *keyer_,
                             [](const Subject&) { return true; }, &counts));
  rep.lines = counts.lines;
  rep.invalid = counts.invalid;
  rep.invalid_samples = std::move(counts.invalid_samples);
  rep.duplicates = counts.duplicates;
  if (numbers.empty())
    return Status::InvalidArgument(
        req.path + ": no valid phone number in " + std::to_string(rep.lines) + " lines" +
        (rep.invalid_samples.empty()
             ? ""
             : " (" + internal::JoinSamples(rep.invalid_samples, rep.invalid) + ")") +
        "; nothing was recorded");

  list.campaign = req.campaign;
  list.supplier = req.supplier;
  list.acquired_day = acquired;
  list.basis = req.basis;
  list.consent_text = req.consent_text;
  list.file_name = std::filesystem::path(req.path).filename().string();
  list.file_sha256 = rep.file_sha256;
  list.number_count = numbers.size();
  rep.list_id = list.list_id;

  // The members in SubjectId order: their index entries and member keys
  // then come sorted, as an export's session numbers do.
  const std::vector<uint32_t> by_id = internal::OrderById(
      numbers.size(), [&](size_t i) -> const SubjectId& { return numbers[i].id; });
  TACET_ASSIGN_OR_RETURN(AppendBatch batch, log_->NewBatch(actor, numbers.size() + 1));
  const Payload head = std::move(list);
  const Event& e = batch.Add(head);
  rep.first_seq = e.seq;
  TACET_RETURN_IF_ERROR(projector_.Apply(e, head, batch));
  Payload member = ListMember{rep.list_id, {}};
  for (uint32_t i : by_id) {
    std::get<ListMember>(member).subject = numbers[i].id;
    TACET_RETURN_IF_ERROR(projector_.Apply(batch.Add(member), member, batch));
  }
  rep.last_seq = batch.last_seq();
  rep.members = numbers.size();
  TACET_RETURN_IF_ERROR(log_->Commit(std::move(batch)));
  TACET_RETURN_IF_ERROR(LoadPolicy());
  return rep;
}

}  // namespace tacet
