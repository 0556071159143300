// The cryptcom_common component of the core library; see its directory for the code.
