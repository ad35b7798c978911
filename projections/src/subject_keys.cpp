// The ledger's subject keys (format 3): the ledger secret that names each
// subject by its SubjectId, and the data keys that seal each subject's
// personal fields.
#include <sys/stat.h>

#include <filesystem>

#include "tacet/projections/ledger.h"

namespace tacet {

namespace fs = std::filesystem;

std::string Ledger::SecretPath() const {
  return options_.secret_path.empty() ? (fs::path(options_.data_dir) / "ledger.secret").string()
                                      : options_.secret_path;
}

Status Ledger::LoadSubjectKeys() {
  const bool writer = !options_.read_only;
  const std::string path = SecretPath();
  TACET_ASSIGN_OR_RETURN(auto recorded, log_->GetMeta(kSecretMetaKey));
  // The secret is made with the ledger, and only then: a ledger that has
  // one and lost it must get it back, or its subjects have no names.
  const bool fresh = !recorded && log_->head().seq == 0;
  auto secret = LoadLedgerSecret(path, writer && fresh);
  if (!secret.ok()) {
    if (secret.status().code() == StatusCode::kNotFound && !fresh)
      keyer_error_ = "the ledger secret '" + path +
                     "' is missing; it names every subject of this ledger: restore it from the "
                     "ledger's backup, or set [ledger] secret to where it is";
    else
      keyer_error_ = secret.status().message();
    if (writer) return Status::FailedPrecondition(keyer_error_);
  } else {
    keyer_ = std::make_unique<SubjectKeyer>(*secret);
    const Hash256 fingerprint = keyer_->Fingerprint();
    if (recorded) {
      if (*recorded != AsBytes(fingerprint)) {
        keyer_.reset();
        keyer_error_ = "the ledger secret '" + path +
                       "' is not this ledger's (its fingerprint is not the one the ledger "
                       "recorded): give the secret made with this ledger";
        return Status::FailedPrecondition(keyer_error_);
      }
    } else if (writer) {
      TACET_RETURN_IF_ERROR(log_->PutMeta(kSecretMetaKey, std::string(AsBytes(fingerprint))));
    }
  }
  const std::string dir = (fs::path(options_.data_dir) / "keys").string();
  KeyStoreOptions ko;
  ko.create_if_missing = writer;
  ko.read_only = !writer;
  auto store = KeyStore::Open(dir, ko);
  if (!store.ok()) {
    // A reader without the store (another user's ledger) shows sealed
    // fields as sealed; a writer needs it.
    if (writer) return store.status().WithContext("the data key store");
    return Status::Ok();
  }
  // The data keys are the owner's alone, whatever data_group lets read.
  if (writer) ::chmod(dir.c_str(), 0700);
  keys_ = std::move(store).value();
  return Status::Ok();
}

Result<SubjectId> Ledger::IdOf(const Subject& s) const {
  if (keyer_ == nullptr) return Status::FailedPrecondition(keyer_error_);
  return keyer_->Of(s.value);
}

Result<Sealed> Ledger::SealFor(const SubjectId& id, PayloadType type, Personal fields) {
  if (keys_ == nullptr) return Status::FailedPrecondition("the data key store is not open");
  // Synced with the ledger's own durability: at once for a ledger that
  // syncs every commit, else by SyncWal() before the group's WAL sync.
  TACET_ASSIGN_OR_RETURN(std::vector<DataKey> keys,
                         keys_->GetOrCreate(std::span(&id, 1), options_.sync));
  TACET_ASSIGN_OR_RETURN(std::string bytes, SealPersonal(keys[0], type, id, fields));
  return Sealed{std::move(bytes)};
}

Disclosed Ledger::Disclose(const Payload& p) const {
  Disclosed d;
  const std::string* sealed = SealedOf(p);
  if (sealed == nullptr) return d;
  const Hash256& id = *KeyOwnerOf(p);
  d.state = Disclosed::State::kSealed;
  if (keys_ == nullptr) return d;
  auto key = keys_->Get(id);
  if (!key.ok()) return d;
  if (!*key) {
    d.state = Disclosed::State::kErased;
    return d;
  }
  auto fields = OpenPersonal(**key, TypeOf(p), id, *sealed);
  if (!fields.ok()) return d;
  d.state = Disclosed::State::kOpen;
  d.fields = std::move(fields).value();
  return d;
}

Status Ledger::SyncWal() {
  // Keys first: no event may outlive the key that seals it.
  if (keys_ != nullptr) TACET_RETURN_IF_ERROR(keys_->Sync());
  return log_->SyncWal();
}

Result<std::optional<DataKey>> Ledger::DataKeyOf(const SubjectId& id) const {
  if (keys_ == nullptr) return Status::FailedPrecondition("the data key store is not open");
  return keys_->Get(id);
}

}  // namespace tacet
