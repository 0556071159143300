// The cryptcom_wire component of the core library; see its directory for the code.
