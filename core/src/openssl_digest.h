// OpenSSL's SHA-256, fetched once for the process (crypto.cpp): shared by
// the files that hash through EVP directly.
#pragma once

#include <openssl/evp.h>

namespace tacet::internal {

// Fetched once: an implicit fetch on every digest costs more than the digest.
const EVP_MD* Sha256Md();

}  // namespace tacet::internal
