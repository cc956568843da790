/* lxc_container.c: from fresh namespaces to a running init, async-signal-safe.
 *
 * The order matters: / becomes recursively private before anything is mounted, so nothing
 * propagates back to the host; /proc is mounted while the old root is still attached (the
 * kernel refuses a new proc mount in a mount namespace that cannot see a full one); the
 * old root goes last, detached lazily. No function here allocates or takes a lock.
 *
 * The root filesystem is the container's to shape, links included, while the child is
 * root on the host (or the host uid its root maps to): every mount point of a
 * <filesystem> is looked up and made inside that root through descriptors, so no link in
 * it leads a mkdir or a mount to the host's directories. */
#include "lxc_container.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Host device nodes bind-mounted into the container's /dev (no mknod needed). */
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

/* dst = the NULL-ended list of strings, cut to size. */
static void
cat(char *dst, gsize size, ...)
{
    gsize len = 0;
    const char *s;
    va_list ap;

    va_start(ap, size);
    while ((s = va_arg(ap, const char *))) {
        while (*s && len + 1 < size)
            dst[len++] = *s++;
    }
    va_end(ap);
    dst[len] = '\0';
}

/* Report what failed (the NULL-ended pieces of the message, and errno) and exit. */
G_GNUC_NORETURN G_GNUC_NULL_TERMINATED static void
fail(const LxcChildPlan *p, ...)
{
    LxcChildError e = {.err = errno};
    gsize len = 0;
    const char *s;
    va_list ap;

    va_start(ap, p);
    while ((s = va_arg(ap, const char *))) {
        while (*s && len + 1 < sizeof(e.what))
            e.what[len++] = *s++;
    }
    va_end(ap);
    e.what[len] = '\0';
    if (write(p->error_fd, &e, sizeof(e)) < 0)
        _exit(1);
    _exit(1);
}

static int
make_dir(const char *path, mode_t mode)
{
    return mkdir(path, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* An empty file to bind a device node (or the console) over. */
static int
make_node_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Every lookup of a mount point is made inside the container's root, which stands for "/"
 * to absolute links and ".." alike (as libvirt's lookups after its pivot_root), and never
 * through a /proc magic link, which could lead anywhere. */
static int
open_in_root(int root, const char *rel)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    guint tries = 0;
    long fd;

    /* EAGAIN: a rename or a mount raced with the lookup, and the kernel asks again. */
    do {
        fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
    } while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 64);
    return (int)fd;
}

/* Make the missing last component of `rel` (relative to the root) in its parent, by the
 * parent's descriptor: mkdirat never follows a link, so the directory is made where the
 * parent was found, inside the root. */
static int
make_component(const LxcChildPlan *p, int root, char *rel)
{
    char *slash = strrchr(rel, '/');
    const char *name = rel;
    int parent = root;
    int fd;

    if (slash) {
        *slash = '\0';
        parent = open_in_root(root, rel);
        *slash = '/';
        name = slash + 1;
        if (parent < 0)
            fail(p, "cannot resolve mount point '/", rel, "' in the container's root", NULL);
    }
    if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
        fail(p, "cannot create mount point '/", rel, "' in the container's root", NULL);
    if (parent != root)
        close(parent);
    fd = open_in_root(root, rel);
    if (fd < 0 && errno == ENOENT) {
        /* mkdirat found a name that lookups do not find: a link to nothing. */
        errno = EEXIST;
        fail(p, "cannot create mount point '/", rel,
             "' in the container's root (a symbolic link to nothing there)", NULL);
    }
    return fd;
}

/* The directory `target` (absolute and clean: lxc_spec.c) names inside the root open at
 * `root`, as an O_PATH descriptor; missing directories on the way are made there. Each
 * prefix is looked up from the root again, so a link met on the way resolves inside it. */
static int
open_mount_point(const LxcChildPlan *p, int root, const char *target)
{
    char rel[4096];
    gsize len = strlen(target);
    char *end = rel;

    if (len >= sizeof(rel)) {
        errno = ENAMETOOLONG;
        fail(p, "cannot resolve mount point '", target, "' in the container's root", NULL);
    }
    memcpy(rel, target + 1, len); /* without the leading '/', with the NUL */
    for (;;) {
        char saved;
        int fd;

        while (*end && *end != '/')
            end++;
        saved = *end;
        *end = '\0';
        fd = open_in_root(root, rel);
        if (fd < 0 && errno == ENOENT)
            fd = make_component(p, root, rel);
        if (fd < 0)
            fail(p, "cannot resolve mount point '/", rel, "' in the container's root", NULL);
        if (!saved)
            return fd;
        close(fd);
        *end++ = '/';
    }
}

/* Bind one filesystem through descriptors (the new mount API): the source's tree is cloned,
 * made read-only if asked while still detached, and attached at the mount point found
 * inside the root, so nothing can be swapped under the mount between lookup and mount.
 * Read-only is only added: nosuid, nodev and noexec stay as the source has them (in a user
 * namespace they are locked, and dropping them is never what was asked). */
static void
bind_one(const LxcChildPlan *p, int root, const LxcChildMount *m)
{
    struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
    int target = open_mount_point(p, root, m->target);
    int tree = open_tree(AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);

    if (tree < 0)
        fail(p, "cannot bind mount filesystem '", m->source, "'", NULL);
    if (m->readonly &&
        mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0)
        fail(p, "cannot make filesystem '", m->source, "' read-only", NULL);
    if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        fail(p, "cannot bind mount filesystem '", m->source, "' on '", m->target, "'", NULL);
    close(tree);
    close(target);
}

static void
bind_mounts(const LxcChildPlan *p)
{
    int root;

    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail(p, "cannot make / private", NULL);
    if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail(p, "cannot bind mount the root filesystem '", p->root, "'", NULL);
    root = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        fail(p, "cannot open the root filesystem '", p->root, "'", NULL);
    for (guint i = 0; i < p->n_mounts; i++)
        bind_one(p, root, &p->mounts[i]);
    close(root);
}

static void
enter_root(const LxcChildPlan *p)
{
    if (chdir(p->root) < 0)
        fail(p, "cannot enter the root filesystem '", p->root, "'", NULL);
    if (make_dir("." LXC_CHILD_OLDROOT, 0700) < 0)
        fail(p, "cannot create '", LXC_CHILD_OLDROOT, "' in the root filesystem", NULL);
    if (syscall(SYS_pivot_root, ".", "." LXC_CHILD_OLDROOT) < 0)
        fail(p, "cannot pivot_root into '", p->root, "'", NULL);
    if (chdir("/") < 0)
        fail(p, "cannot enter the new root", NULL);
    if (make_dir("/proc", 0555) < 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        fail(p, "cannot mount /proc", NULL);
    if (make_dir("/sys", 0555) < 0 ||
        mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        fail(p, "cannot mount /sys read-only", NULL);
}

static void
populate_dev(const LxcChildPlan *p)
{
    char src[256], dst[256];

    if (make_dir("/dev", 0755) < 0 ||
        mount("devfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
        fail(p, "cannot mount a tmpfs on /dev", NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(dev_nodes); i++) {
        cat(src, sizeof(src), LXC_CHILD_OLDROOT "/dev/", dev_nodes[i], NULL);
        cat(dst, sizeof(dst), "/dev/", dev_nodes[i], NULL);
        if (make_node_file(dst) < 0 || mount(src, dst, NULL, MS_BIND, NULL) < 0)
            fail(p, "cannot bind mount ", dst, NULL);
    }
    if (make_dir("/dev/pts", 0755) < 0 ||
        mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620") < 0)
        fail(p, "cannot mount /dev/pts", NULL);
    if (symlink("pts/ptmx", "/dev/ptmx") < 0)
        fail(p, "cannot create /dev/ptmx", NULL);
    if (make_node_file("/dev/console") < 0 ||
        mount(p->console, "/dev/console", NULL, MS_BIND, NULL) < 0)
        fail(p, "cannot bind mount the console pty ", p->console, " on /dev/console", NULL);
    if (make_dir("/dev/shm", 01777) < 0 ||
        mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k") < 0)
        fail(p, "cannot mount /dev/shm", NULL);
    if (symlink("/proc/self/fd", "/dev/fd") < 0 || symlink("/proc/self/fd/0", "/dev/stdin") < 0 ||
        symlink("/proc/self/fd/1", "/dev/stdout") < 0 ||
        symlink("/proc/self/fd/2", "/dev/stderr") < 0)
        fail(p, "cannot create the /dev/fd links", NULL);
}

static void
links_up(const LxcChildPlan *p)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        fail(p, "cannot open a socket to configure links", NULL);
    for (guint i = 0; p->ifaces[i]; i++) {
        struct ifreq ifr;

        memset(&ifr, 0, sizeof(ifr));
        cat(ifr.ifr_name, sizeof(ifr.ifr_name), p->ifaces[i], NULL);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
            fail(p, "cannot find link ", p->ifaces[i], NULL);
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
            fail(p, "cannot bring link ", p->ifaces[i], " up", NULL);
    }
    close(fd);
}

/* setsid and the console as controlling terminal and stdio. */
static void
attach_console(const LxcChildPlan *p)
{
    int fd;

    if (setsid() < 0)
        fail(p, "cannot start a session", NULL);
    fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        fail(p, "cannot open /dev/console", NULL);
    ioctl(fd, TIOCSCTTY, 0); /* opening it as session leader already did it, normally */
    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        fail(p, "cannot make /dev/console the standard streams", NULL);
    if (fd > 2)
        close(fd);
}

static void
reset_signals(void)
{
    struct sigaction dfl;
    sigset_t none;

    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* SIGKILL and SIGSTOP refuse, harmlessly */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In a user namespace whose maps the parent has written: become its root. Raw system calls,
 * for this process alone (glibc's would try to reach the parent's other threads). The
 * supplementary groups went before clone(): setgroups() is denied in the namespace. */
static void
become_root(const LxcChildPlan *p)
{
    struct pollfd parent = {.fd = p->error_fd, .events = 0};

    if (syscall(SYS_setresgid, 0, 0, 0) < 0)
        fail(p, "cannot become gid 0 in the container's user namespace", NULL);
    if (syscall(SYS_setresuid, 0, 0, 0) < 0)
        fail(p, "cannot become uid 0 in the container's user namespace", NULL);
    /* New credentials cleared the parent-death signal: set it again, and go if the
     * supervisor died meanwhile (the error pipe then has no reader left). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (poll(&parent, 1, 0) < 0 || (parent.revents & POLLERR))
        _exit(1);
}

void
lxc_container_child(const LxcChildPlan *p)
{
    char go;

    /* The container never outlives its supervisor (the daemon's death is another matter:
     * the supervisor is not the daemon). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (read(p->sync_fd, &go, 1) != 1)
        _exit(1);
    close(p->sync_fd);
    if (p->userns)
        become_root(p);
    bind_mounts(p);
    enter_root(p);
    populate_dev(p);
    if (umount2(LXC_CHILD_OLDROOT, MNT_DETACH) < 0)
        fail(p, "cannot detach the old root", NULL);
    rmdir(LXC_CHILD_OLDROOT);
    if (sethostname(p->hostname, strlen(p->hostname)) < 0)
        fail(p, "cannot set the hostname", NULL);
    links_up(p);
    attach_console(p);
    reset_signals();
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        fail(p, "cannot close inherited file descriptors", NULL);
    execve(p->init, p->argv, p->envp);
    if (errno == ENOENT)
        fail(p, "cannot find init path '", p->init, "' relative to container root", NULL);
    fail(p, "cannot execute init '", p->init, "'", NULL);
}
