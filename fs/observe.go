package fs

import (
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// OpObserver is told of every request the kernel sends the mount, for
// metrics. It is called from go-fuse's serving goroutines, many at once,
// once the answer is ready: it must be quick and must not block.
type OpObserver interface {
	// Op is one request: its name (FUSE's, in lower case: "lookup",
	// "getattr", "write", ...), the errno answered (0 for success) and how
	// long the filesystem took to answer.
	Op(op string, errno syscall.Errno, d time.Duration)
}

// observedFS wraps the RawFileSystem that go-fuse's node API builds, so that
// every request, its errno and its latency are seen at one place instead of
// in each node method. Methods the kernel never answers for (String,
// SetDebug, Init, OnUnmount) pass through the embedded interface.
type observedFS struct {
	fuse.RawFileSystem
	obs OpObserver
}

// done reports op, begun at start, with the status *st it ended with.
func (o *observedFS) done(op string, start time.Time, st *fuse.Status) {
	o.obs.Op(op, syscall.Errno(*st), time.Since(start))
}

func (o *observedFS) Lookup(c <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) (st fuse.Status) {
	defer o.done("lookup", time.Now(), &st)
	return o.RawFileSystem.Lookup(c, h, name, out)
}

func (o *observedFS) Forget(nodeid, nlookup uint64) {
	ok := fuse.OK
	defer o.done("forget", time.Now(), &ok)
	o.RawFileSystem.Forget(nodeid, nlookup)
}

func (o *observedFS) GetAttr(c <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) (st fuse.Status) {
	defer o.done("getattr", time.Now(), &st)
	return o.RawFileSystem.GetAttr(c, in, out)
}

func (o *observedFS) SetAttr(c <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) (st fuse.Status) {
	defer o.done("setattr", time.Now(), &st)
	return o.RawFileSystem.SetAttr(c, in, out)
}

func (o *observedFS) Mknod(c <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) (st fuse.Status) {
	defer o.done("mknod", time.Now(), &st)
	return o.RawFileSystem.Mknod(c, in, name, out)
}

func (o *observedFS) Mkdir(c <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) (st fuse.Status) {
	defer o.done("mkdir", time.Now(), &st)
	return o.RawFileSystem.Mkdir(c, in, name, out)
}

func (o *observedFS) Unlink(c <-chan struct{}, h *fuse.InHeader, name string) (st fuse.Status) {
	defer o.done("unlink", time.Now(), &st)
	return o.RawFileSystem.Unlink(c, h, name)
}

func (o *observedFS) Rmdir(c <-chan struct{}, h *fuse.InHeader, name string) (st fuse.Status) {
	defer o.done("rmdir", time.Now(), &st)
	return o.RawFileSystem.Rmdir(c, h, name)
}

func (o *observedFS) Rename(c <-chan struct{}, in *fuse.RenameIn, oldName, newName string) (st fuse.Status) {
	defer o.done("rename", time.Now(), &st)
	return o.RawFileSystem.Rename(c, in, oldName, newName)
}

func (o *observedFS) Link(c <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) (st fuse.Status) {
	defer o.done("link", time.Now(), &st)
	return o.RawFileSystem.Link(c, in, name, out)
}

func (o *observedFS) Symlink(c <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) (st fuse.Status) {
	defer o.done("symlink", time.Now(), &st)
	return o.RawFileSystem.Symlink(c, h, target, name, out)
}

func (o *observedFS) Readlink(c <-chan struct{}, h *fuse.InHeader) (out []byte, st fuse.Status) {
	defer o.done("readlink", time.Now(), &st)
	return o.RawFileSystem.Readlink(c, h)
}

func (o *observedFS) Access(c <-chan struct{}, in *fuse.AccessIn) (st fuse.Status) {
	defer o.done("access", time.Now(), &st)
	return o.RawFileSystem.Access(c, in)
}

func (o *observedFS) GetXAttr(c <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (n uint32, st fuse.Status) {
	defer o.done("getxattr", time.Now(), &st)
	return o.RawFileSystem.GetXAttr(c, h, attr, dest)
}

func (o *observedFS) ListXAttr(c <-chan struct{}, h *fuse.InHeader, dest []byte) (n uint32, st fuse.Status) {
	defer o.done("listxattr", time.Now(), &st)
	return o.RawFileSystem.ListXAttr(c, h, dest)
}

func (o *observedFS) SetXAttr(c <-chan struct{}, in *fuse.SetXAttrIn, attr string, data []byte) (st fuse.Status) {
	defer o.done("setxattr", time.Now(), &st)
	return o.RawFileSystem.SetXAttr(c, in, attr, data)
}

func (o *observedFS) RemoveXAttr(c <-chan struct{}, h *fuse.InHeader, attr string) (st fuse.Status) {
	defer o.done("removexattr", time.Now(), &st)
	return o.RawFileSystem.RemoveXAttr(c, h, attr)
}

func (o *observedFS) Create(c <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) (st fuse.Status) {
	defer o.done("create", time.Now(), &st)
	return o.RawFileSystem.Create(c, in, name, out)
}

func (o *observedFS) Tmpfile(c <-chan struct{}, in *fuse.CreateIn, out *fuse.CreateOut) (st fuse.Status) {
	defer o.done("tmpfile", time.Now(), &st)
	return o.RawFileSystem.Tmpfile(c, in, out)
}

func (o *observedFS) Open(c <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) (st fuse.Status) {
	defer o.done("open", time.Now(), &st)
	return o.RawFileSystem.Open(c, in, out)
}

func (o *observedFS) Read(c <-chan struct{}, in *fuse.ReadIn, buf []byte) (r fuse.ReadResult, st fuse.Status) {
	defer o.done("read", time.Now(), &st)
	return o.RawFileSystem.Read(c, in, buf)
}

func (o *observedFS) Lseek(c <-chan struct{}, in *fuse.LseekIn, out *fuse.LseekOut) (st fuse.Status) {
	defer o.done("lseek", time.Now(), &st)
	return o.RawFileSystem.Lseek(c, in, out)
}

func (o *observedFS) GetLk(c <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) (st fuse.Status) {
	defer o.done("getlk", time.Now(), &st)
	return o.RawFileSystem.GetLk(c, in, out)
}

func (o *observedFS) SetLk(c <-chan struct{}, in *fuse.LkIn) (st fuse.Status) {
	defer o.done("setlk", time.Now(), &st)
	return o.RawFileSystem.SetLk(c, in)
}

func (o *observedFS) SetLkw(c <-chan struct{}, in *fuse.LkIn) (st fuse.Status) {
	defer o.done("setlkw", time.Now(), &st)
	return o.RawFileSystem.SetLkw(c, in)
}

func (o *observedFS) Release(c <-chan struct{}, in *fuse.ReleaseIn) {
	ok := fuse.OK
	defer o.done("release", time.Now(), &ok)
	o.RawFileSystem.Release(c, in)
}

func (o *observedFS) Write(c <-chan struct{}, in *fuse.WriteIn, data []byte) (n uint32, st fuse.Status) {
	defer o.done("write", time.Now(), &st)
	return o.RawFileSystem.Write(c, in, data)
}

func (o *observedFS) Writev(c <-chan struct{}, in *fuse.WriteIn, data [][]byte) (n uint32, st fuse.Status) {
	defer o.done("write", time.Now(), &st)
	return o.RawFileSystem.Writev(c, in, data)
}

func (o *observedFS) CopyFileRange(c <-chan struct{}, in *fuse.CopyFileRangeIn) (n uint32, st fuse.Status) {
	defer o.done("copy_file_range", time.Now(), &st)
	return o.RawFileSystem.CopyFileRange(c, in)
}

func (o *observedFS) Ioctl(c <-chan struct{}, in *fuse.IoctlIn, inbuf []byte, out *fuse.IoctlOut, outbuf []byte) (st fuse.Status) {
	defer o.done("ioctl", time.Now(), &st)
	return o.RawFileSystem.Ioctl(c, in, inbuf, out, outbuf)
}

func (o *observedFS) Flush(c <-chan struct{}, in *fuse.FlushIn) (st fuse.Status) {
	defer o.done("flush", time.Now(), &st)
	return o.RawFileSystem.Flush(c, in)
}

func (o *observedFS) Fsync(c <-chan struct{}, in *fuse.FsyncIn) (st fuse.Status) {
	defer o.done("fsync", time.Now(), &st)
	return o.RawFileSystem.Fsync(c, in)
}

func (o *observedFS) Fallocate(c <-chan struct{}, in *fuse.FallocateIn) (st fuse.Status) {
	defer o.done("fallocate", time.Now(), &st)
	return o.RawFileSystem.Fallocate(c, in)
}

func (o *observedFS) OpenDir(c <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) (st fuse.Status) {
	defer o.done("opendir", time.Now(), &st)
	return o.RawFileSystem.OpenDir(c, in, out)
}

func (o *observedFS) ReadDir(c <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) (st fuse.Status) {
	defer o.done("readdir", time.Now(), &st)
	return o.RawFileSystem.ReadDir(c, in, out)
}

func (o *observedFS) ReadDirPlus(c <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) (st fuse.Status) {
	defer o.done("readdirplus", time.Now(), &st)
	return o.RawFileSystem.ReadDirPlus(c, in, out)
}

func (o *observedFS) ReleaseDir(in *fuse.ReleaseIn) {
	ok := fuse.OK
	defer o.done("releasedir", time.Now(), &ok)
	o.RawFileSystem.ReleaseDir(in)
}

func (o *observedFS) FsyncDir(c <-chan struct{}, in *fuse.FsyncIn) (st fuse.Status) {
	defer o.done("fsyncdir", time.Now(), &st)
	return o.RawFileSystem.FsyncDir(c, in)
}

func (o *observedFS) StatFs(c <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) (st fuse.Status) {
	defer o.done("statfs", time.Now(), &st)
	return o.RawFileSystem.StatFs(c, h, out)
}

func (o *observedFS) Statx(c <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) (st fuse.Status) {
	defer o.done("statx", time.Now(), &st)
	return o.RawFileSystem.Statx(c, in, out)
}

// mountObserved is go-fuse's fs.Mount, with the raw filesystem wrapped in
// an observedFS when obs is set.
func mountObserved(dir string, root fs.InodeEmbedder, opts *fs.Options, obs OpObserver) (*fuse.Server, error) {
	raw := fs.NewNodeFS(root, opts)
	if obs != nil {
		raw = &observedFS{RawFileSystem: raw, obs: obs}
	}
	server, err := fuse.NewServer(raw, dir, &opts.MountOptions)
	if err != nil {
		return nil, err
	}
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		return nil, err // as in fs.Mount: a mount that failed leaves no serving loop working
	}
	return server, nil
}
