// SPDX-License-Identifier: GPL-2.0
/* cordon's LSM engine, kernel side. No policy here: a hook either finds a verdict cordon stored in a map, or
 * asks cordon and waits (the "FUSE xattr RPC", see README.md next to this file). Every hook first checks that the
 * caller is in the sandbox's cgroup, which its processes cannot leave (the cgroup belongs to root).
 * Built with clang -target bpf against the guest kernel's vmlinux.h (CO-RE); loaded by src/Cordon.Lsm. */
/* A vmlinux.h from a newer bpftool declares the kernel's kfuncs, with that kernel's own signatures; the externs below
 * are declared once for every supported kernel instead (see there), so those declarations are left out. */
#define BPF_NO_KFUNC_PROTOTYPES
/* Newer kernels (Debian's 7.3 among them) are written with -fms-extensions: a struct embeds another by naming its
 * tag alone ("struct ns_tree;" in struct ns_common), and their BTF says so. native/lsm/build compiles with
 * -fms-extensions so that vmlinux.h keeps those members; clang then flags every such use as an extension, which is
 * the point, so that one warning is off for the generated header only (as in the kernel's own build). */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wmicrosoft-anon-tag"
#include "vmlinux.h"
#pragma clang diagnostic pop
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define EACCES 13
#define EPERM 1
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define __FMODE_EXEC 0x20
#define MAY_WRITE 0x2
#define CGROUP2_SUPER_MAGIC 0x63677270
#define BPF_FS_MAGIC 0xcafe4a11
#define PATH_MAX 4096
#define FMODE_CREATED 0x100000
#define S_IFMT 00170000
#define S_IFIFO 0010000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_ISUID 0004000
#define S_ISGID 0002000
#define ATTR_MODE 0x1
#define ATTR_UID 0x2
#define WALK_MAX 64 /* path components (and mount crossings) a folder walk looks at before it gives up and asks */

/* What a request asks for; the same numbers are in src/Cordon.Supervisor/Lsm/LsmEngine.cs. */
enum cordon_op {
	CORDON_READ = 1,
	CORDON_WRITE = 2,
	CORDON_EXEC = 4,
	CORDON_CREATE = 8,
	CORDON_DELETE = 16,
	CORDON_LINK = 32,
	CORDON_RENAME = 64,
	CORDON_ATTR = 128,
	CORDON_CONNECT = 256,
	CORDON_BIND = 512,
	CORDON_SEND = 1024,
};

/* One sandbox: a run of cordon, keyed by its cgroup's id. The programs and maps are shared by every run and stay
 * loaded between runs (src/Cordon.Supervisor/Lsm/LsmEngine.cs): a run adds its entry when it starts and removes it
 * when it ends, and every key below carries the cgroup id, so one run's verdicts and grants are not another's. */
struct cordon_run {
	__u32 helper_pid;  /* the helper whose executable lives on this run's FUSE file system */
	__u32 cordon_tgid; /* cordon itself: the sandbox may not signal or trace it */
};

/* What all runs share. */
struct cordon_state {
	__u32 cgroup_level; /* the depth of the sandboxes' cgroups below the root cgroup; 0: not set up yet */
	__u32 folder_gen;   /* folder grants hold only while this is unchanged (bumped when a directory moves or goes) */
	__u32 links;        /* how many links the loader pinned: a run checks that all are still there */
	__u32 pad;
};

/* One question. A file is path (+ "/" + name when the object is a name in the directory path: create, delete,
 * link, rename); a network request is the kernel's copy of the socket address. */
struct cordon_request {
	__u32 op;
	__u32 addr_len;
	__u64 dev; /* with ino and gen: the object, for the verdict cache (0: no object, nothing cached) */
	__u64 ino;
	__u32 gen; /* the inode's generation: a freed inode number given to a new file does not inherit verdicts */
	__u32 pad;
	char answer[8]; /* the xattr value lands here: a dynptr must point into a map value, not the stack */
	__u8 addr[128];
	char name[256];
	char path[PATH_MAX];
};

struct cordon_key {
	__u64 cgroup; /* the run */
	__u64 dev;
	__u64 ino;
	__u32 op;
	__u32 gen;
};

/* A folder granted by the rules: the directory (mount, inode) and an op. Everything below it is allowed. */
struct cordon_folder {
	__u64 cgroup; /* the run */
	__u64 mnt; /* the mount's unique id (statx STATX_MNT_ID_UNIQUE): a bind mount elsewhere does not match */
	__u64 ino;
	__u32 op;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cordon_state);
} state SEC(".maps");

/* The runs under way, by cgroup id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct cordon_run);
} runs SEC(".maps");

/* Pending questions by thread id: cordon reads the one whose id the FUSE getxattr header carries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct cordon_request);
} requests SEC(".maps");

/* Answers that hold for the rest of the run (rules, "always"): 1 allow, 2 deny. Written by cordon only. A cache:
 * the least recently used entries make room (those of finished runs first), and an evicted one is asked again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cordon_key);
	__type(value, __u8);
} verdicts SEC(".maps");

/* Folders every file below which the rules allow, and the folder_gen they were computed in. Written by cordon
 * from its rules (Policy.FolderVerdict), so that a whole tree is decided here without a question per file. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cordon_folder);
	__type(value, __u32);
} folders SEC(".maps");

/* A zeroed request to create map entries from: too large for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cordon_request);
} blank SEC(".maps");

/* Kfuncs are not a stable interface: their signatures follow the kernel's. Each is declared here in a form that
 * compiles against the BTF of every kernel cordon supports, and libbpf matches it to the running kernel's by name
 * and (modifiers aside) type. bpf_path_d_path takes a "struct path *" in 6.12 and a "const struct path *" in later
 * kernels (6.18's struct file has a const f_path): declared const, a path of either kind can be passed to it. */
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct file *bpf_get_task_exe_file(struct task_struct *task) __ksym;
extern void bpf_put_file(struct file *file) __ksym;
extern int bpf_path_d_path(const struct path *path, char *buf, size_t buf__sz) __ksym;
extern int bpf_get_file_xattr(struct file *file, const char *name__str, struct bpf_dynptr *value_p) __ksym;

static __always_inline struct cordon_state *shared_state(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&state, &zero);
}

/* The run the caller belongs to (its cgroup id), or 0. Membership covers the cgroup's descendants: the caller's
 * ancestor at the sandboxes' depth is the sandbox. (A cgroup array and bpf_current_task_under_cgroup would do too,
 * but sleepable programs may not use one.) */
static __always_inline __u64 sandbox(void)
{
	struct cordon_state *st = shared_state();
	if (!st || !st->cgroup_level)
		return 0;
	__u64 cg = bpf_get_current_ancestor_cgroup_id(st->cgroup_level);
	return cg && bpf_map_lookup_elem(&runs, &cg) ? cg : 0;
}

/* A fresh question for this thread, or NULL (then the caller denies). */
static struct cordon_request *begin(__u32 op)
{
	__u32 zero = 0, tid = (__u32)bpf_get_current_pid_tgid();
	struct cordon_request *tmpl = bpf_map_lookup_elem(&blank, &zero);
	if (!tmpl || bpf_map_update_elem(&requests, &tid, tmpl, BPF_ANY))
		return NULL;
	struct cordon_request *req = bpf_map_lookup_elem(&requests, &tid);
	if (req)
		req->op = op;
	return req;
}

/* Asks cordon and waits for its answer: a getxattr on the helper's executable, which cordon's FUSE server
 * answers once it has decided (a person may take minutes). Anything that goes wrong denies. */
static int wait_verdict(__u64 cg, struct cordon_request *req)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct cordon_run *run = bpf_map_lookup_elem(&runs, &cg);
	int verdict = -EACCES;
	if (run && run->helper_pid) {
		struct task_struct *helper = bpf_task_from_pid(run->helper_pid);
		if (helper) {
			struct file *exe = bpf_get_task_exe_file(helper);
			bpf_task_release(helper);
			if (exe) {
				struct bpf_dynptr value;
				bpf_dynptr_from_mem(req->answer, sizeof(req->answer), 0, &value);
				int n = bpf_get_file_xattr(exe, "user.cordon.verdict", &value);
				bpf_put_file(exe);
				if (n > 0 && req->answer[0] == 'y')
					verdict = 0;
			}
		}
	}
	bpf_map_delete_elem(&requests, &tid);
	return verdict;
}

static void cancel(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&requests, &tid);
}

/* The mount a vfsmount is part of (the kernel's real_mount), with the offset relocated for the running kernel. */
static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt)
{
	return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/* One step of a folder walk (bpf_loop callback: the verifier checks it once, not once per step). */
struct walk {
	struct mount *m;
	struct dentry *d;
	struct cordon_folder key;
	__u32 gen;
	bool found;
};

static long walk_step(__u64 i, void *ctx)
{
	struct walk *w = ctx;
	/* (Locals: a CO-RE read of w->m would ask the kernel's BTF for struct walk.) */
	struct mount *m = w->m;
	struct dentry *d = w->d;
	w->key.mnt = BPF_CORE_READ(m, mnt_id_unique);
	w->key.ino = BPF_CORE_READ(d, d_inode, i_ino);
	__u32 *made = bpf_map_lookup_elem(&folders, &w->key);
	if (made && *made == w->gen) {
		w->found = true;
		return 1;
	}
	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);
		if (!parent || parent == m)
			return 1; /* the root of the mount tree */
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = parent;
		return 0;
	}
	struct dentry *up = BPF_CORE_READ(d, d_parent);
	if (!up || up == d)
		return 1;
	w->d = up;
	return 0;
}

/* Whether a granted folder holds the object at (mount, dentry): the dentry itself or a directory above it, crossing
 * mount points up to the root, as its path would. The walk reads d_parent without locks: a directory renamed while
 * it runs may be seen at its old or its new place (README.md, "LSM engine"). */
static bool in_granted_folder(__u64 cg, struct vfsmount *vfsmnt, struct dentry *d, __u32 op)
{
	struct cordon_state *st = shared_state();
	if (!st || !vfsmnt || !d)
		return false;
	struct walk w = {};
	w.m = real_mount(vfsmnt);
	w.d = d;
	w.key.cgroup = cg;
	w.key.op = op;
	w.gen = st->folder_gen;
	bpf_loop(WALK_MAX, walk_step, &w, 0);
	return w.found;
}

/* A directory that goes away or moves can take a folder grant's inode number with it, or move a granted folder to
 * a path the rules do not grant: the grants stop counting until cordon recomputes them (it notices the change). */
static void folders_changed(void)
{
	struct cordon_state *st = shared_state();
	if (st)
		__sync_fetch_and_add(&st->folder_gen, 1);
}

static __always_inline __u32 inode_gen(struct inode *inode)
{
	return BPF_CORE_READ(inode, i_generation);
}

/* An open or exec of a file: cached verdicts by (device, inode, op) and granted folders are applied here without
 * asking. */
static int ask_file(__u64 cg, struct file *file, __u32 op)
{
	struct cordon_key key = {};
	key.cgroup = cg;
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.gen = inode_gen(inode);
	key.op = op;
	__u8 *known = bpf_map_lookup_elem(&verdicts, &key);
	if (known)
		return *known == 1 ? 0 : -EACCES;
	if (in_granted_folder(cg, BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry), op))
		return 0;

	struct cordon_request *req = begin(op);
	if (!req)
		return -EACCES;
	req->dev = key.dev;
	req->ino = key.ino;
	req->gen = key.gen;
	if (bpf_path_d_path(&file->f_path, req->path, sizeof(req->path)) < 0) {
		cancel();
		return -EACCES;
	}
	return wait_verdict(cg, req);
}

/* A name in a directory (create, delete, link, rename): the directory's path and the name. */
static int ask_name(__u64 cg, const struct path *dir, struct dentry *dentry, __u32 op)
{
	if (in_granted_folder(cg, BPF_CORE_READ(dir, mnt), BPF_CORE_READ(dir, dentry), op))
		return 0;
	struct cordon_request *req = begin(op);
	if (!req)
		return -EACCES;
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	if (bpf_path_d_path(dir, req->path, sizeof(req->path)) < 0 ||
	    bpf_probe_read_kernel_str(req->name, sizeof(req->name), name) < 0) {
		cancel();
		return -EACCES;
	}
	return wait_verdict(cg, req);
}

/* A change to an existing object named by a path (truncate, chmod, chown). */
static int ask_path(__u64 cg, const struct path *path, __u32 op)
{
	if (in_granted_folder(cg, BPF_CORE_READ(path, mnt), BPF_CORE_READ(path, dentry), op))
		return 0;
	struct cordon_request *req = begin(op);
	if (!req)
		return -EACCES;
	if (bpf_path_d_path(path, req->path, sizeof(req->path)) < 0) {
		cancel();
		return -EACCES;
	}
	return wait_verdict(cg, req);
}

/* A socket address (the kernel's own copy: nothing can change it while cordon decides). */
static int ask_addr(__u64 cg, void *address, int len, __u32 op)
{
	struct cordon_request *req = begin(op);
	if (!req)
		return -EACCES;
	if (len < 0)
		len = 0;
	if (len > (int)sizeof(req->addr))
		len = sizeof(req->addr);
	req->addr_len = len;
	if (bpf_probe_read_kernel(req->addr, len & 0xff, address) < 0) {
		cancel();
		return -EACCES;
	}
	return wait_verdict(cg, req);
}

/* For a directory that goes away: whether any run has granted it (bpf_for_each_map_elem over the runs). */
struct granted_by_any {
	struct cordon_folder key;
	bool found;
};

static long granted_in_run(struct bpf_map *map, __u64 *cg, struct cordon_run *run, struct granted_by_any *q)
{
	q->key.cgroup = *cg;
	for (__u32 op = CORDON_READ; op <= CORDON_ATTR; op <<= 1) {
		q->key.op = op;
		if (bpf_map_lookup_elem(&folders, &q->key)) {
			q->found = true;
			return 1;
		}
	}
	return 0;
}

/* -EPERM when the caller is in a sandbox and tgid is that sandbox's cordon. */
static __always_inline int protects_cordon(__u32 tgid)
{
	__u64 cg = sandbox();
	struct cordon_run *run = cg ? bpf_map_lookup_elem(&runs, &cg) : NULL;
	return run && tgid == run->cordon_tgid ? -EPERM : 0;
}

SEC("lsm.s/file_open")
int BPF_PROG(cordon_file_open, struct file *file)
{
	__u64 cg = sandbox();
	if (!cg)
		return 0;
	unsigned int mode = BPF_CORE_READ(file, f_mode);
	/* Opens for exec (the program and its ELF interpreter) carry __FMODE_EXEC in f_flags, which open(2) cannot
	 * set: the program is decided as a whole by bprm_check_security, like the seccomp engine's execve. */
	if (BPF_CORE_READ(file, f_flags) & __FMODE_EXEC)
		return 0;
	int r = 0;
	if (mode & FMODE_CREATED)
		r = ask_file(cg, file, CORDON_CREATE);
	if (r == 0 && (mode & FMODE_READ))
		r = ask_file(cg, file, CORDON_READ);
	if (r == 0 && (mode & FMODE_WRITE))
		r = ask_file(cg, file, CORDON_WRITE);
	return r;
}

SEC("lsm.s/bprm_check_security")
int BPF_PROG(cordon_exec, struct linux_binprm *bprm)
{
	__u64 cg = sandbox();
	return cg ? ask_file(cg, bprm->file, CORDON_EXEC) : 0;
}

/* Creating a file with open(O_CREAT) has no sleepable hook that knows the path (path_mknod is not sleepable,
 * inode_create has no mount): it is decided at file_open, after the kernel created the file (FMODE_CREATED). A
 * denied create therefore leaves an empty file behind; README.md, "LSM engine", lists this. mknod of FIFOs and
 * devices is refused outright (not sleepable, so it cannot be asked); sockets are decided at bind. */
SEC("lsm/path_mknod")
int BPF_PROG(cordon_mknod, const struct path *dir, struct dentry *dentry, umode_t mode, unsigned int dev)
{
	umode_t type = mode & S_IFMT;
	return sandbox() && (type == S_IFIFO || type == S_IFCHR || type == S_IFBLK) ? -EPERM : 0;
}

SEC("lsm.s/path_mkdir")
int BPF_PROG(cordon_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode)
{
	__u64 cg = sandbox();
	return cg ? ask_name(cg, dir, dentry, CORDON_CREATE) : 0;
}

/* Any process's rmdir of a granted folder frees its inode number for reuse: the grants are recomputed. */
SEC("lsm.s/path_rmdir")
int BPF_PROG(cordon_rmdir, const struct path *dir, struct dentry *dentry)
{
	__u64 cg = sandbox();
	if (cg) {
		int r = ask_name(cg, dir, dentry, CORDON_DELETE);
		if (r)
			return r;
	}
	struct granted_by_any q = {};
	struct mount *m = real_mount(BPF_CORE_READ(dir, mnt));
	q.key.mnt = BPF_CORE_READ(m, mnt_id_unique);
	q.key.ino = BPF_CORE_READ(dentry, d_inode, i_ino);
	bpf_for_each_map_elem(&runs, granted_in_run, &q, 0);
	if (q.found)
		folders_changed();
	return 0;
}

SEC("lsm.s/path_unlink")
int BPF_PROG(cordon_unlink, const struct path *dir, struct dentry *dentry)
{
	__u64 cg = sandbox();
	return cg ? ask_name(cg, dir, dentry, CORDON_DELETE) : 0;
}

SEC("lsm.s/path_symlink")
int BPF_PROG(cordon_symlink, const struct path *dir, struct dentry *dentry, const char *old_name)
{
	__u64 cg = sandbox();
	return cg ? ask_name(cg, dir, dentry, CORDON_LINK) : 0;
}

/* A hard link gives the file a second name, which could sit in an allowed folder: the seccomp engine therefore
 * asks for read and write of the source. Here the source has no path a sleepable program can print (only a dentry),
 * so the link is allowed only when this run already holds a rule's verdict allowing the file to be read or written
 * (cached when it was opened); otherwise it is refused without asking. README.md lists this. */
SEC("lsm.s/path_link")
int BPF_PROG(cordon_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	__u64 cg = sandbox();
	if (!cg)
		return 0;
	struct cordon_key key = {};
	key.cgroup = cg;
	struct inode *inode = BPF_CORE_READ(old_dentry, d_inode);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.gen = inode_gen(inode);
	key.op = CORDON_READ;
	__u8 *read = bpf_map_lookup_elem(&verdicts, &key);
	key.op = CORDON_WRITE;
	__u8 *write = bpf_map_lookup_elem(&verdicts, &key);
	/* (A hard link stays on one mount, so the source's folders are walked on the target's.) */
	struct vfsmount *mnt = BPF_CORE_READ(new_dir, mnt);
	if (!(read && *read == 1) && !(write && *write == 1) && !in_granted_folder(cg, mnt, old_dentry, CORDON_READ) &&
	    !in_granted_folder(cg, mnt, old_dentry, CORDON_WRITE))
		return -EACCES;
	return ask_name(cg, new_dir, new_dentry, CORDON_LINK);
}

/* Any process's rename of a directory may move a granted folder (or one above it) to a path the rules do not grant,
 * or replace one: the grants are recomputed. */
SEC("lsm.s/path_rename")
int BPF_PROG(cordon_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags)
{
	__u64 cg = sandbox();
	if (cg) {
		int r = ask_name(cg, old_dir, old_dentry, CORDON_RENAME);
		if (!r)
			r = ask_name(cg, new_dir, new_dentry, CORDON_RENAME);
		if (r)
			return r;
	}
	umode_t from = BPF_CORE_READ(old_dentry, d_inode, i_mode);
	struct inode *over = BPF_CORE_READ(new_dentry, d_inode);
	if ((from & S_IFMT) == S_IFDIR || (over && (BPF_CORE_READ(over, i_mode) & S_IFMT) == S_IFDIR))
		folders_changed();
	return 0;
}

SEC("lsm.s/path_truncate")
int BPF_PROG(cordon_truncate, const struct path *path)
{
	__u64 cg = sandbox();
	return cg ? ask_path(cg, path, CORDON_WRITE) : 0;
}

SEC("lsm.s/path_chmod")
int BPF_PROG(cordon_chmod, const struct path *path, umode_t mode)
{
	__u64 cg = sandbox();
	return cg ? ask_path(cg, path, CORDON_ATTR) : 0;
}

/* Privilege left behind: a setuid or setgid program (setgid on a directory only sets new files' group) or a file given
 * to another user would act outside the sandbox after the run. Refused outright inside (not sleepable: cannot ask);
 * the seccomp engine lets a rule that names the file allow it, this engine has no such rule in the kernel. */
SEC("lsm/inode_setattr")
int BPF_PROG(cordon_setattr, struct mnt_idmap *idmap, struct dentry *dentry, struct iattr *attr)
{
	if (!sandbox())
		return 0;
	unsigned int valid = BPF_CORE_READ(attr, ia_valid);
	if (valid & ATTR_MODE) {
		umode_t mode = BPF_CORE_READ(attr, ia_mode);
		umode_t type = BPF_CORE_READ(dentry, d_inode, i_mode) & S_IFMT;
		if ((mode & S_ISUID) || ((mode & S_ISGID) && type != S_IFDIR))
			return -EPERM;
	}
	if (valid & ATTR_UID) {
		__u32 to = BPF_CORE_READ(attr, ia_uid.val);
		__u32 owner = BPF_CORE_READ(dentry, d_inode, i_uid.val);
		__u32 self = (__u32)bpf_get_current_uid_gid();
		if (to != owner && to != self)
			return -EPERM;
	}
	return 0;
}

/* The same at creation: open(O_CREAT) and mknod with a setuid or setgid mode are refused (the seccomp engine strips
 * the bits instead; here the hook can only say yes or no). */
SEC("lsm/inode_create")
int BPF_PROG(cordon_create_mode, struct inode *dir, struct dentry *dentry, umode_t mode)
{
	/* Two tests, not one expression: clang made (-(a & b)) of it, which the verifier cannot bound to [-4095, 0]. */
	if (!(mode & (S_ISUID | S_ISGID)))
		return 0;
	if (!sandbox())
		return 0;
	return -EPERM;
}

/* kuid_t/kgid_t arrive by value; the hook only needs the path, so they are not declared. */
SEC("lsm.s/path_chown")
int BPF_PROG(cordon_chown, const struct path *path)
{
	__u64 cg = sandbox();
	return cg ? ask_path(cg, path, CORDON_ATTR) : 0;
}

SEC("lsm.s/socket_connect")
int BPF_PROG(cordon_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	__u64 cg = sandbox();
	return cg ? ask_addr(cg, address, addrlen, CORDON_CONNECT) : 0;
}

SEC("lsm.s/socket_bind")
int BPF_PROG(cordon_bind, struct socket *sock, struct sockaddr *address, int addrlen)
{
	__u64 cg = sandbox();
	return cg ? ask_addr(cg, address, addrlen, CORDON_BIND) : 0;
}

/* A datagram to an explicit address (sendto/sendmsg with a name); connected sends were decided at connect. */
SEC("lsm.s/socket_sendmsg")
int BPF_PROG(cordon_sendmsg, struct socket *sock, struct msghdr *msg, int size)
{
	__u64 cg = sandbox();
	if (!cg)
		return 0;
	void *name = BPF_CORE_READ(msg, msg_name);
	int len = BPF_CORE_READ(msg, msg_namelen);
	return name && len > 0 ? ask_addr(cg, name, len, CORDON_SEND) : 0;
}

/* Membership cannot be shed: nothing in the sandbox may write to the cgroup file system, which covers both
 * writing cgroup.procs and clone3(CLONE_INTO_CGROUP) (cgroup_may_write asks inode_permission for MAY_WRITE).
 * Nor to the BPF file system, where the programs' links are pinned: a root program that unlinked them would detach
 * the programs once no run holds them (each run does, besides). Not sleepable and on every path lookup of every
 * process: the cheap checks come first. */
SEC("lsm/inode_permission")
int BPF_PROG(cordon_inode_permission, struct inode *inode, int mask)
{
	if (!(mask & MAY_WRITE))
		return 0;
	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);
	if (magic != CGROUP2_SUPER_MAGIC && magic != BPF_FS_MAGIC)
		return 0;
	return sandbox() ? -EPERM : 0;
}

/* No new namespaces and no mounts inside: the hooks decide on the path as the caller's namespace shows it, so a
 * private mount namespace with the secret's folder bound over an allowed one would show an allowed path. */
SEC("lsm/userns_create")
int BPF_PROG(cordon_userns, const struct cred *cred)
{
	return sandbox() ? -EPERM : 0;
}

SEC("lsm/sb_mount")
int BPF_PROG(cordon_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags, void *data)
{
	return sandbox() ? -EPERM : 0;
}

/* Nor unmounts: unmounting the BPF file system would drop the pins. */
SEC("lsm/sb_umount")
int BPF_PROG(cordon_umount, struct vfsmount *mnt, int flags)
{
	return sandbox() ? -EPERM : 0;
}

SEC("lsm/move_mount")
int BPF_PROG(cordon_move_mount, const struct path *from_path, const struct path *to_path)
{
	return sandbox() ? -EPERM : 0;
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(cordon_pivotroot, const struct path *old_path, const struct path *new_path)
{
	return sandbox() ? -EPERM : 0;
}

SEC("lsm/path_chroot")
int BPF_PROG(cordon_chroot, const struct path *path)
{
	return sandbox() ? -EPERM : 0;
}

/* The machinery is out of the sandbox's reach: no bpf(), no signals or ptrace against cordon. */
SEC("lsm/bpf")
int BPF_PROG(cordon_bpf, int cmd, union bpf_attr *attr, unsigned int size)
{
	return sandbox() ? -EPERM : 0;
}

SEC("lsm/task_kill")
int BPF_PROG(cordon_kill, struct task_struct *p, struct kernel_siginfo *info, int sig, const struct cred *cred)
{
	return protects_cordon(BPF_CORE_READ(p, tgid));
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(cordon_ptrace, struct task_struct *child, unsigned int mode)
{
	return protects_cordon(BPF_CORE_READ(child, tgid));
}
