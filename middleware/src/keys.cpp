// The cryptcom_keys component of the core library; see its directory for the code.
