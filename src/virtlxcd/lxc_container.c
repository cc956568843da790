/* lxc_container.c: from fresh namespaces to a running init, async-signal-safe.
 *
 * The order matters: / becomes recursively private before anything is mounted, so nothing
 * propagates back to the host; /proc is mounted while the old root is still attached (the
 * kernel refuses a new proc mount in a mount namespace that cannot see a full one); the
 * old root goes last, detached lazily. No function here allocates or takes a lock. */
#include "lxc_container.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
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
#include <sys/statfs.h>
#include <sys/statvfs.h> /* the ST_ flags statfs() reports */
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

G_GNUC_NORETURN static void
fail(const LxcChildPlan *p, const char *a, const char *b, const char *c)
{
    LxcChildError e = {.err = errno};

    cat(e.what, sizeof(e.what), a, b ? b : "", c ? c : "", NULL);
    if (write(p->error_fd, &e, sizeof(e)) < 0)
        _exit(1);
    _exit(1);
}

static int
make_dir(const char *path, mode_t mode)
{
    return mkdir(path, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* mkdir -p, on a copy of the path. */
static int
make_path(const char *path)
{
    char buf[4096];
    gsize len = strlen(path);

    if (len >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (make_dir(buf, 0755) < 0)
            return -1;
        *p = '/';
    }
    return make_dir(buf, 0755);
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

/* A bind mount made read-only keeps its other flags: a remount that would drop nosuid,
 * nodev or noexec is refused in a user namespace (those flags are locked there), and
 * dropping them is never what was asked. The atime flags stay as they are by default. */
static int
remount_readonly(const char *target)
{
    static const struct {
        unsigned long st, ms;
    } keep[] = {{ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV}, {ST_NOEXEC, MS_NOEXEC}};
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
    struct statfs st;

    if (statfs(target, &st) < 0)
        return -1;
    for (gsize i = 0; i < G_N_ELEMENTS(keep); i++) {
        if ((unsigned long)st.f_flags & keep[i].st)
            flags |= keep[i].ms;
    }
    return mount(NULL, target, NULL, flags, NULL);
}

static void
bind_mounts(const LxcChildPlan *p)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail(p, "cannot make / private", NULL, NULL);
    if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
        fail(p, "cannot bind mount the root filesystem '", p->root, "'");
    for (guint i = 0; i < p->n_mounts; i++) {
        const LxcChildMount *m = &p->mounts[i];

        if (make_path(m->target) < 0)
            fail(p, "cannot create mount point '", m->target, "'");
        if (mount(m->source, m->target, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail(p, "cannot bind mount filesystem '", m->source, "'");
        if (m->readonly && remount_readonly(m->target) < 0)
            fail(p, "cannot make filesystem '", m->source, "' read-only");
    }
}

static void
enter_root(const LxcChildPlan *p)
{
    if (chdir(p->root) < 0)
        fail(p, "cannot enter the root filesystem '", p->root, "'");
    if (make_dir("." LXC_CHILD_OLDROOT, 0700) < 0)
        fail(p, "cannot create '", LXC_CHILD_OLDROOT, "' in the root filesystem");
    if (syscall(SYS_pivot_root, ".", "." LXC_CHILD_OLDROOT) < 0)
        fail(p, "cannot pivot_root into '", p->root, "'");
    if (chdir("/") < 0)
        fail(p, "cannot enter the new root", NULL, NULL);
    if (make_dir("/proc", 0555) < 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        fail(p, "cannot mount /proc", NULL, NULL);
    if (make_dir("/sys", 0555) < 0 ||
        mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        fail(p, "cannot mount /sys read-only", NULL, NULL);
}

static void
populate_dev(const LxcChildPlan *p)
{
    char src[256], dst[256];

    if (make_dir("/dev", 0755) < 0 ||
        mount("devfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k") < 0)
        fail(p, "cannot mount a tmpfs on /dev", NULL, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(dev_nodes); i++) {
        cat(src, sizeof(src), LXC_CHILD_OLDROOT "/dev/", dev_nodes[i], NULL);
        cat(dst, sizeof(dst), "/dev/", dev_nodes[i], NULL);
        if (make_node_file(dst) < 0 || mount(src, dst, NULL, MS_BIND, NULL) < 0)
            fail(p, "cannot bind mount ", dst, NULL);
    }
    if (make_dir("/dev/pts", 0755) < 0 ||
        mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
              "newinstance,ptmxmode=0666,mode=0620") < 0)
        fail(p, "cannot mount /dev/pts", NULL, NULL);
    if (symlink("pts/ptmx", "/dev/ptmx") < 0)
        fail(p, "cannot create /dev/ptmx", NULL, NULL);
    if (make_node_file("/dev/console") < 0 ||
        mount(p->console, "/dev/console", NULL, MS_BIND, NULL) < 0)
        fail(p, "cannot bind mount the console pty ", p->console, " on /dev/console");
    if (make_dir("/dev/shm", 01777) < 0 ||
        mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k") < 0)
        fail(p, "cannot mount /dev/shm", NULL, NULL);
    if (symlink("/proc/self/fd", "/dev/fd") < 0 || symlink("/proc/self/fd/0", "/dev/stdin") < 0 ||
        symlink("/proc/self/fd/1", "/dev/stdout") < 0 ||
        symlink("/proc/self/fd/2", "/dev/stderr") < 0)
        fail(p, "cannot create the /dev/fd links", NULL, NULL);
}

static void
links_up(const LxcChildPlan *p)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        fail(p, "cannot open a socket to configure links", NULL, NULL);
    for (guint i = 0; p->ifaces[i]; i++) {
        struct ifreq ifr;

        memset(&ifr, 0, sizeof(ifr));
        cat(ifr.ifr_name, sizeof(ifr.ifr_name), p->ifaces[i], NULL);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
            fail(p, "cannot find link ", p->ifaces[i], NULL);
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
            fail(p, "cannot bring link ", p->ifaces[i], " up");
    }
    close(fd);
}

/* setsid and the console as controlling terminal and stdio. */
static void
attach_console(const LxcChildPlan *p)
{
    int fd;

    if (setsid() < 0)
        fail(p, "cannot start a session", NULL, NULL);
    fd = open("/dev/console", O_RDWR);
    if (fd < 0)
        fail(p, "cannot open /dev/console", NULL, NULL);
    ioctl(fd, TIOCSCTTY, 0); /* opening it as session leader already did it, normally */
    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        fail(p, "cannot make /dev/console the standard streams", NULL, NULL);
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
        fail(p, "cannot become gid 0 in the container's user namespace", NULL, NULL);
    if (syscall(SYS_setresuid, 0, 0, 0) < 0)
        fail(p, "cannot become uid 0 in the container's user namespace", NULL, NULL);
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
        fail(p, "cannot detach the old root", NULL, NULL);
    rmdir(LXC_CHILD_OLDROOT);
    if (sethostname(p->hostname, strlen(p->hostname)) < 0)
        fail(p, "cannot set the hostname", NULL, NULL);
    links_up(p);
    attach_console(p);
    reset_signals();
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        fail(p, "cannot close inherited file descriptors", NULL, NULL);
    execve(p->init, p->argv, p->envp);
    if (errno == ENOENT)
        fail(p, "cannot find init path '", p->init, "' relative to container root");
    fail(p, "cannot execute init '", p->init, "'");
}
