// The cryptcom_crypto component of the core library; see its directory for the code.
