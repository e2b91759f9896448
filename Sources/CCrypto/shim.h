#pragma once
// OpenSSL's libcrypto, for SHA-256 only (EVP interface; uses the CPU's SHA extensions where present).
#include <openssl/evp.h>
