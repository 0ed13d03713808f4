// Package spool keeps what the user writes to a file in local spool files
// until it has been uploaded.
//
// A Spool is a directory with a byte budget: every write that grows a spool
// file first reserves the growth against the Spool's maxSize and against the
// free space that must stay on the disk, and is refused with ErrNoSpace
// (which wraps syscall.ENOSPC) when it does not fit. A File keeps the md5 of
// its content up to date while it is written sequentially, so that the
// upload, which needs the md5 before the body, does not have to read a large
// file twice.
//
// The package knows nothing of FUSE or of the remote API.
package spool
