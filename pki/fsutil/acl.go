package fsutil

import "io/fs"

// Windows has no file modes: a file's privacy is its DACL. A private file
// (a mode with no group or other bits, like a key's 0600) is created on
// Windows with a protected DACL (no inherited entries) that grants full
// access to the current user, SYSTEM and the Administrators group only,
// the same two built-in principals Docker's own private directories on
// Windows grant (moby's SddlAdministratorsLocalSystem,
// "D:P(A;OICI;GA;;;BA)(A;OICI;GA;;;SY)"). Any other mode keeps the
// DACL inherited from the directory, as os.OpenFile does.

// IsPrivate says whether perm asks for a file only its owner can read.
func IsPrivate(perm fs.FileMode) bool { return perm&0o077 == 0 }

// PrivateSDDL is the security descriptor (SDDL) of a private file or, with
// dir, of a private directory whose entries inherit it: owner user (by SID),
// SYSTEM (SY) and Administrators (BA) with full access (FA), protected
// (P) from the parent's inheritable entries.
func PrivateSDDL(userSID string, dir bool) string {
	inherit := ""
	if dir {
		inherit = "OICI"
	}
	ace := func(sid string) string { return "(A;" + inherit + ";FA;;;" + sid + ")" }
	return "D:P" + ace(userSID) + ace("SY") + ace("BA")
}
