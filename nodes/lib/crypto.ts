/**
 * Encryption for the encrypt/decrypt nodes. Pure: no Node-RED import.
 *
 * Three formats:
 * - "aes-256-gcm" (A256GCM): node:crypto, random 96-bit IV, 128-bit tag, optional AAD.
 * - "aes-256-cbc-hmac" (A256CBC-HS256): AES-256-CBC then HMAC-SHA256 (encrypt-then-MAC) with
 *   separate keys derived by HKDF-SHA256 from the 32-byte key.
 * - "cryptojs" (CryptoJS-AES): `CryptoJS.AES.encrypt(text, passphrase).toString()`, the OpenSSL
 *   `Salted__` format (EVP_BytesToKey MD5, one round, AES-256-CBC). It has no integrity check;
 *   it exists for receivers that already speak it. crypto-js produces it; we read it back with
 *   node:crypto so that a bad padding is a real error and not garbage.
 *
 * GCM and CBC-HMAC travel in a JSON envelope:
 *   {"v":1,"alg":"A256GCM","kid":"k1","iv":"<b64>","tag":"<b64>","ct":"<b64>","cty":"..."}
 */
export * from './encryption/formats';
export * from './encryption/primitives';
export * from './encryption/seal';
export * from './encryption/open';
