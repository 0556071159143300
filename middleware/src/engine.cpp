// The cryptcom_engine component of the core library; see its directory for the code.
