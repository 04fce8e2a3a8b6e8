-- desired.lua - the settings policy.lua applies: UpdateCustomKeyStore
-- members by their API names. A secret can come from a file or the
-- environment instead of this file, e.g.
--   KeyStorePassword = io.open("/run/secrets/kmsuser"):read("*l"),
return {
  CustomKeyStoreId = os.getenv("KMS_STORE_ID") or "cks-1234567890abcdef0",
  NewCustomKeyStoreName = os.getenv("KMS_STORE_NAME") or "Finance",
}
