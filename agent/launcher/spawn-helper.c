/*
 * agora-spawn: the launcher's native spawner (see agent/launcher/spawn-helper.ts and
 * docs/containerizers.md, "The spawn helper").
 *
 * A small long-lived child of one launcher process. It reads launch requests on stdin, starts
 * each task with one clone (straight into its pid, mount, uts, ipc and network namespaces when
 * asked: the task's own process is pid 1 of its namespace, with no util-linux `unshare` or
 * `setpriv` in between), is the task's parent, records each exit status in the task's sandbox,
 * and reports starts, failures and exits on stdout.
 *
 * Requests (stdin): "<decimal byte count>\n" followed by that many bytes of NUL-terminated
 * fields, in this order:
 *   id, file, argc, argv[1..argc], envc, env[envc] ("K=V"), cwd, stdout, stderr, status file
 *   ("" none), njoin, join[njoin], nleave, leave[nleave], nhome, home[nhome], nafter,
 *   (file, value, optional)[nafter],
 *   uid ("" keep), gid, ngroups, groups[ngroups], namespaces (letters of "pmuin": pid, mount,
 *   uts, ipc, net; "" none), hostname ("" none), lo up ("0"/"1"), network namespace to join
 *   ("" none).
 * Events (stdout), one line each:
 *   S <id> <pid> <start time>       the task runs (it has exec'd); start time: /proc stat field 22
 *   F <id> <stage> <message>        nothing runs for this request; stage prepare or spawn
 *   X <id> <code> <signal>          the task ended (code -1 when signalled), status recorded
 *
 * When stdin closes (the launcher is gone) it goes on reaping its tasks and recording their
 * statuses, and exits once the last has ended. SIGINT, SIGTERM and SIGPIPE are ignored (a Ctrl-C
 * meant for the agent's terminal must not cut tasks short); tasks start with every signal at its
 * default and none blocked.
 *
 * `agora-spawn --exec FILE [ARG...]` is another use of the same binary: it closes every descriptor
 * above stdio and execs FILE (searched in PATH). The agent runs the commands it starts itself
 * (command health checks, the fetcher's tools) through it, so that none of them inherits a
 * descriptor a native addon opened without close-on-exec (the ZooKeeper client's connection; see
 * agent/inherited-fds.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- output ---- */

static char out[1 << 16];
static size_t outLen;

static void flushOut(void) {
  size_t off = 0;
  while (off < outLen) {
    ssize_t n = write(1, out + off, outLen - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      break; /* the launcher is gone: nothing to tell */
    }
    off += (size_t)n;
  }
  outLen = 0;
}

static void emit(const char *fmt, ...) {
  char line[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) {
    /* cut: keep the event's end of line, or the next event would be read as part of this one */
    n = sizeof line - 1;
    line[n - 1] = '\n';
  }
  /* one event per line: no newline inside a message */
  for (int i = 0; i < n - 1; i++)
    if (line[i] == '\n') line[i] = ' ';
  if (outLen + (size_t)n > sizeof out) flushOut();
  memcpy(out + outLen, line, (size_t)n);
  outLen += (size_t)n;
}

/* ---- the tasks it is the parent of ---- */

/*
 * A task is `pending` from its clone until its error pipe closes (it has exec'd, or reported why
 * not): the helper does not wait for one child's exec before cloning the next, so the children's
 * set-up (mounts, stdio, user switch, exec) runs beside the next clone. Then it is running until
 * reaped. A pending child may already have ended (reaped with its status kept) by the time its
 * pipe is read.
 */
struct task {
  pid_t pid;
  char *id;
  char *statusFile; /* NULL: none */
  char *file;       /* the program, for a failure message */
  char **after;     /* the post-exec writes: file, value, optional; NULL-terminated */
  unsigned long long start;
  int errfd;   /* >= 0 while pending */
  int ended;   /* reaped while pending */
  int status;  /* its wait status, when ended */
  char msg[1024];
  size_t got;
};

static struct task *tasks;
static size_t ntasks, captasks;

static struct task *track(pid_t pid) {
  if (ntasks == captasks) {
    captasks = captasks ? captasks * 2 : 64;
    tasks = realloc(tasks, captasks * sizeof *tasks);
    if (!tasks) abort();
  }
  struct task *t = &tasks[ntasks++];
  memset(t, 0, sizeof *t);
  t->pid = pid;
  t->errfd = -1;
  return t;
}

static void untrack(size_t i) {
  struct task *t = &tasks[i];
  free(t->id);
  free(t->statusFile);
  free(t->file);
  if (t->after)
    for (char **a = t->after; *a; a++) free(*a);
  free(t->after);
  if (t->errfd >= 0) close(t->errfd);
  tasks[i] = tasks[--ntasks];
}

/*
 * Writes the status into the sandbox. The sandbox may belong to the task's user: a link, a FIFO or
 * a hard link in the file's place must not make this (root) process write elsewhere or block.
 */
static void recordStatus(const char *file, int status) {
  int fd = open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", status);
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) < 0) {
      /* not recorded: the launcher learns the end from the exit event */
    }
  }
  close(fd);
}

/* A running task ended with wait status st: record, report, forget. */
static void ended(size_t i, int st) {
  int code = -1, sig = 0, shell;
  if (WIFSIGNALED(st)) {
    sig = WTERMSIG(st);
    shell = 128 + sig;
  } else {
    code = WEXITSTATUS(st);
    shell = code;
  }
  if (tasks[i].statusFile) recordStatus(tasks[i].statusFile, shell);
  emit("X %s %d %d\n", tasks[i].id, code, sig);
  untrack(i);
}

static void reap(void) {
  for (;;) {
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid <= 0) return;
    for (size_t i = 0; i < ntasks; i++) {
      if (tasks[i].pid != pid) continue;
      if (tasks[i].errfd >= 0) {
        tasks[i].ended = 1;
        tasks[i].status = st;
      } else {
        ended(i, st);
      }
      break;
    }
  }
}

/* Writes value into file (as Node's writeFileSync: created, truncated); 0 or -1 with errno. */
static int writeFile(const char *file, const char *value) {
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  size_t n = strlen(value);
  ssize_t w = write(fd, value, n);
  int saved = errno;
  close(fd);
  errno = saved;
  return w == (ssize_t)n ? 0 : -1;
}

/* Reads a pending task's error pipe; once it closes, the task runs (or failed). */
static void settle(size_t i) {
  struct task *t = &tasks[i];
  for (;;) {
    ssize_t n = read(t->errfd, t->msg + t->got, sizeof t->msg - 1 - t->got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return; /* more to come */
    if (n > 0) {
      t->got += (size_t)n;
      if (t->got < sizeof t->msg - 1) continue;
    }
    break;
  }
  close(t->errfd);
  t->errfd = -1;
  if (t->got > 0) {
    t->msg[t->got] = '\0';
    if (!t->ended) waitpid(t->pid, NULL, 0);
    char *tab = strchr(t->msg, '\t');
    const char *stage = "spawn";
    const char *text = t->msg;
    if (tab) {
      *tab = '\0';
      stage = strcmp(t->msg, "prepare") == 0 ? "prepare" : "spawn";
      text = tab + 1;
    }
    emit("F %s %s could not start %s: %s\n", t->id, stage, t->file, text);
    untrack(i);
    return;
  }
  /* The cpu weight once the child has exec'd (a low weight would slow it before its exec). */
  if (!t->ended && t->after) {
    for (char **a = t->after; a[0] && a[1] && a[2]; a += 3) {
      if (writeFile(a[0], a[1]) == 0 || a[2][0] == '1') continue;
      int err = errno;
      /* The child has exec'd, so it leads its own process group (setsid before the exec): kill
       * the group, or what it started already (a shell's first command) outlives it, outside the
       * limits the failed write was to set. */
      kill(-t->pid, SIGKILL);
      kill(t->pid, SIGKILL);
      waitpid(t->pid, NULL, 0);
      emit("F %s prepare could not write %s to %s: %s\n", t->id, a[1], a[0], strerror(err));
      untrack(i);
      return;
    }
  }
  emit("S %s %d %llu\n", t->id, (int)t->pid, t->start);
  if (t->ended) ended(i, t->status);
}

/* ---- one launch ---- */

struct request {
  const char *id, *file, *cwd, *out, *err, *status, *uid, *gid, *ns, *hostname, *lo, *joinNet;
  char **argv, **env, **join, **leave, **home, **after; /* after: triples */
  gid_t *groups;
  int argc, envc, njoin, nleave, nhome, nafter, ngroups;
};

/* Splits a record into its fields; 0 on success. */
struct cursor {
  char *p, *end;
};

static const char *field(struct cursor *c) {
  if (c->p >= c->end) return NULL;
  char *s = c->p;
  char *z = memchr(s, '\0', (size_t)(c->end - s));
  if (!z) return NULL;
  c->p = z + 1;
  return s;
}

static int count(struct cursor *c, int *n) {
  const char *s = field(c);
  if (!s) return -1;
  char *e;
  long v = strtol(s, &e, 10);
  if (*e || v < 0 || v > 100000) return -1;
  *n = (int)v;
  return 0;
}

static char **fields(struct cursor *c, int n, int extra) {
  char **v = calloc((size_t)n + (size_t)extra + 1, sizeof *v);
  if (!v) abort();
  for (int i = 0; i < n; i++) {
    const char *s = field(c);
    if (!s) {
      free(v);
      return NULL;
    }
    v[i + extra] = (char *)s;
  }
  return v;
}

static int parse(char *buf, size_t len, struct request *r) {
  struct cursor c = {buf, buf + len};
  memset(r, 0, sizeof *r);
#define F(x) \
  if (!((x) = field(&c))) return -1
  F(r->id);
  F(r->file);
  if (count(&c, &r->argc) || !(r->argv = fields(&c, r->argc, 1))) return -1;
  r->argv[0] = (char *)r->file;
  if (count(&c, &r->envc) || !(r->env = fields(&c, r->envc, 0))) return -1;
  F(r->cwd);
  F(r->out);
  F(r->err);
  F(r->status);
  if (count(&c, &r->njoin) || !(r->join = fields(&c, r->njoin, 0))) return -1;
  if (count(&c, &r->nleave) || !(r->leave = fields(&c, r->nleave, 0))) return -1;
  if (count(&c, &r->nhome) || !(r->home = fields(&c, r->nhome, 0))) return -1;
  if (count(&c, &r->nafter) || !(r->after = fields(&c, r->nafter * 3, 0))) return -1;
  F(r->uid);
  F(r->gid);
  if (count(&c, &r->ngroups)) return -1;
  r->groups = calloc((size_t)r->ngroups + 1, sizeof *r->groups);
  if (!r->groups) abort();
  for (int i = 0; i < r->ngroups; i++) {
    const char *s = field(&c);
    if (!s) return -1;
    r->groups[i] = (gid_t)strtoul(s, NULL, 10);
  }
  F(r->ns);
  F(r->hostname);
  F(r->lo);
  F(r->joinNet);
#undef F
  return 0;
}

static void freeRequest(struct request *r) {
  free(r->argv);
  free(r->env);
  free(r->join);
  free(r->leave);
  free(r->home);
  free(r->after);
  free(r->groups);
}

/* In the child: reports why it cannot exec on the error pipe, then exits. */
static void childFail(int errfd, const char *stage, const char *what, int err) {
  char msg[1024];
  int n = snprintf(msg, sizeof msg, "%s\t%s: %s", stage, what, strerror(err));
  if (n > 0 && write(errfd, msg, (size_t)n) < 0) {
    /* the parent sees an empty report and an exit 127 */
  }
  _exit(127);
}

static int openOutput(const char *file) {
  int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

static void loUp(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    (void)ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  close(s);
}

/*
 * Where this helper sits while it is not in its home (the cgroups it was started in, see
 * goHome): the home files of the hierarchies a linux launch moved it out of; NULL while it is home.
 */
static char **away;
static int naway;

/*
 * The signals this process ignores: the ones it was started with ignored (an ignored signal stays
 * ignored across exec; caught ones do not, and it catches none) and the three it ignores itself.
 * A child sets these back to their default before its exec: a few calls instead of one per signal
 * (64 system calls per task, each a trap to the hypervisor on a paravirtual guest).
 */
static int ignored[NSIG];
static int nIgnored;

static void ignoreSignals(void) {
  for (int s = 1; s < NSIG; s++) {
    struct sigaction sa;
    if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) != 0) continue;
    if (sa.sa_handler == SIG_IGN || s == SIGPIPE || s == SIGINT || s == SIGTERM) ignored[nIgnored++] = s;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
}

/* Everything between the clone and the exec, in the child. Never returns. */
static void child(const struct request *r, int errfd, int pidns, int mountns) {
  /*
   * A task without cgroups of its own starts in the helper's home, as it would had no linux task
   * been launched before it: the child (single-threaded) moves itself back there, so the helper's
   * loop does not pay the moves (see docs/containerizers.md, "Where a posix task starts").
   */
  if (r->njoin == 0 && naway > 0) {
    for (int i = 0; i < naway; i++)
      if (writeFile(away[i], "0") != 0) childFail(errfd, "prepare", away[i], errno);
  }
  sigset_t none;
  sigemptyset(&none);
  for (int i = 0; i < nIgnored; i++) signal(ignored[i], SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (setsid() < 0) childFail(errfd, "spawn", "setsid", errno);
  if (r->joinNet[0]) {
    int fd = open(r->joinNet, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) childFail(errfd, "spawn", r->joinNet, errno);
    close(fd);
  }
  if (mountns && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    childFail(errfd, "spawn", "make / private in the new mount namespace", errno);
  if (pidns && mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) != 0)
    childFail(errfd, "spawn", "mount /proc", errno);
  if (r->hostname[0] && sethostname(r->hostname, strlen(r->hostname)) != 0)
    childFail(errfd, "spawn", "sethostname", errno);
  if (r->lo[0] == '1') loUp();
  int in = open("/dev/null", O_RDONLY);
  if (in < 0) childFail(errfd, "spawn", "/dev/null", errno);
  int o = openOutput(r->out);
  if (o < 0) childFail(errfd, "spawn", r->out, errno);
  int e = openOutput(r->err);
  if (e < 0) childFail(errfd, "spawn", r->err, errno);
  if (dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) childFail(errfd, "spawn", "dup2", errno);
  if (in > 2) close(in);
  if (o > 2) close(o);
  if (e > 2) close(e);
  if (chdir(r->cwd) != 0) childFail(errfd, "spawn", r->cwd, errno);
  if (r->uid[0]) {
    gid_t gid = (gid_t)strtoul(r->gid, NULL, 10);
    uid_t uid = (uid_t)strtoul(r->uid, NULL, 10);
    if (setgroups((size_t)r->ngroups, r->groups) != 0) childFail(errfd, "spawn", "setgroups", errno);
    if (setresgid(gid, gid, gid) != 0) childFail(errfd, "spawn", "setresgid", errno);
    if (setresuid(uid, uid, uid) != 0) childFail(errfd, "spawn", "setresuid", errno);
  }
  environ = r->env;
  execvp(r->file, r->argv);
  childFail(errfd, "spawn", r->file, errno);
}

struct childArgs {
  const struct request *r;
  int errfd, pidns, mountns;
};

static int childMain(void *arg) {
  const struct childArgs *a = arg;
  child(a->r, a->errfd, a->pidns, a->mountns);
  return 127;
}

/* The top of the stack the children run on until their exec (see launch); NULL: none. */
static char *childStack;
#define CHILD_STACK_SIZE (256 * 1024)

static void makeChildStack(void) {
  long page = sysconf(_SC_PAGESIZE);
  size_t guard = page > 0 ? (size_t)page : 4096;
  char *m = mmap(NULL, CHILD_STACK_SIZE + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (m == MAP_FAILED) return;
  /* a guard page below: an overflow faults instead of writing into other memory */
  if (mprotect(m, guard, PROT_NONE) != 0) return;
  childStack = m + guard + CHILD_STACK_SIZE;
}

/* /proc/<pid>/stat field 22, the start time in clock ticks since boot; 0 when unreadable. */
static unsigned long long startTime(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  p += 2; /* field 3 */
  for (int f = 3; f < 22; f++) {
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  return strtoull(p, NULL, 10);
}

/* Moves this (single-threaded) process through the files; the failing file's index, or -1. */
static int moveTo(char **files, int n) {
  for (int i = 0; i < n; i++)
    if (writeFile(files[i], "0") != 0) return i;
  return -1;
}

/* Same strings, same order. */
static int sameList(char **a, int na, char **b, int nb) {
  if (na != nb) return 0;
  for (int i = 0; i < na; i++)
    if (strcmp(a[i], b[i]) != 0) return 0;
  return 1;
}

/*
 * After a launch that moved this helper into a task's cgroups and out to its `leave` files:
 * unless those are its home files, it is away from home until the next such launch, and a task
 * without cgroups must go home itself (see child()). Kept across requests (the request's own
 * fields are freed).
 */
static void noteAway(const struct request *r) {
  if (r->njoin == 0) return;
  for (int i = 0; i < naway; i++) free(away[i]);
  free(away);
  away = NULL;
  naway = 0;
  if (r->nhome == 0 || sameList(r->leave, r->nleave, r->home, r->nhome)) return;
  away = calloc((size_t)r->nhome, sizeof *away);
  if (!away) abort();
  for (int i = 0; i < r->nhome; i++)
    if (!(away[i] = strdup(r->home[i]))) abort();
  naway = r->nhome;
}

static void launch(const struct request *r) {
  int flags = 0;
  for (const char *p = r->ns; *p; p++) {
    switch (*p) {
    case 'p': flags |= CLONE_NEWPID; break;
    case 'm': flags |= CLONE_NEWNS; break;
    case 'u': flags |= CLONE_NEWUTS; break;
    case 'i': flags |= CLONE_NEWIPC; break;
    case 'n': flags |= CLONE_NEWNET; break;
    default: break;
    }
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    emit("F %s spawn pipe: %s\n", r->id, strerror(errno));
    return;
  }
  /* Born inside the task's cgroups: this process joins them for the clone, then goes back. */
  int bad = moveTo(r->join, r->njoin);
  if (bad >= 0) {
    int err = errno;
    if (moveTo(r->leave, r->nleave) < 0) noteAway(r);
    emit("F %s prepare could not join cgroup %s: %s\n", r->id, r->join[bad], strerror(err));
    close(pipefd[0]);
    close(pipefd[1]);
    return;
  }
  /*
   * The child shares this process's memory until its exec (CLONE_VM), and this process waits
   * meanwhile (CLONE_VFORK), as posix_spawn does: no page tables copied, none write-protected, and
   * no copy-on-write faults afterwards in either process (on this kind of VM each costs tens of
   * microseconds; a copied address space was most of the helper's CPU per task). The child runs
   * on a stack of its own, reused by every child, and touches nothing of this process's memory
   * but `environ` (restored below) and errno.
   */
  struct childArgs a = {r, pipefd[1], flags & CLONE_NEWPID, flags & CLONE_NEWNS};
  char **env = environ;
  pid_t pid = childStack ? clone(childMain, childStack, flags | CLONE_VM | CLONE_VFORK | SIGCHLD, &a) : -1;
  int cloneErr = childStack ? errno : ENOMEM;
  environ = env;
  close(pipefd[1]);
  bad = moveTo(r->leave, r->nleave);
  if (bad < 0) noteAway(r);
  if (pid < 0) {
    close(pipefd[0]);
    emit("F %s spawn clone: %s\n", r->id, strerror(cloneErr));
    if (bad >= 0) goto stuck;
    return;
  }
  if (bad >= 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
    emit("F %s prepare could not leave the task's cgroups\n", r->id);
    goto stuck;
  }
  /* The child's report comes on the pipe (empty once it has exec'd: it is close-on-exec). */
  struct task *t = track(pid);
  t->start = startTime(pid);
  t->id = strdup(r->id);
  t->statusFile = r->status[0] ? strdup(r->status) : NULL;
  t->file = strdup(r->file);
  t->after = calloc((size_t)r->nafter * 3 + 1, sizeof *t->after);
  if (!t->id || !t->file || !t->after || (r->status[0] && !t->statusFile)) abort();
  for (int i = 0; i < r->nafter * 3; i++)
    if (!(t->after[i] = strdup(r->after[i]))) abort();
  fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
  t->errfd = pipefd[0];
  return;
stuck:
  /* Stuck in a task's cgroups: start nothing more; the launcher starts a new helper. */
  flushOut();
  _exit(1);
}

/* ---- --exec: a command without the caller's stray descriptors ---- */

static void closeAboveStdio(void) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  /* Older kernels: every descriptor /proc lists, collected first, then closed. */
  int fds[4096];
  size_t n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    int own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) && n < sizeof fds / sizeof fds[0]) {
      int fd = atoi(e->d_name);
      if (fd > 2 && fd != own) fds[n++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) close(fds[i]);
  } else {
    for (int fd = 3; fd < 65536; fd++) close(fd);
  }
}

static int execClean(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: agora-spawn --exec FILE [ARG...]\n");
    return 2;
  }
  closeAboveStdio();
  execvp(argv[2], argv + 2);
  fprintf(stderr, "agora-spawn: cannot run %s: %s\n", argv[2], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}

/* ---- the loop ---- */

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--exec") == 0) return execClean(argc, argv);
  ignoreSignals();
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) return 2;
  makeChildStack();
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);

  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  if (!buf) return 2;
  int inOpen = 1;
  struct pollfd *p = NULL;
  size_t cappoll = 0;
  for (;;) {
    if (!inOpen && ntasks == 0) break;
    if (cappoll < ntasks + 2) {
      cappoll = (ntasks + 2) * 2;
      p = realloc(p, cappoll * sizeof *p);
      if (!p) return 2;
    }
    p[0] = (struct pollfd){sfd, POLLIN, 0};
    p[1] = (struct pollfd){inOpen ? 0 : -1, POLLIN, 0};
    size_t np = 2;
    for (size_t i = 0; i < ntasks; i++)
      if (tasks[i].errfd >= 0) p[np++] = (struct pollfd){tasks[i].errfd, POLLIN, 0};
    if (poll(p, np, -1) < 0) {
      if (errno == EINTR) continue;
      return 2;
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
    }
    reap();
    /* Pending tasks whose pipe has something (or closed); by fd, as settle() reorders the table. */
    for (size_t k = 2; k < np; k++) {
      if (!p[k].revents) continue;
      for (size_t i = 0; i < ntasks; i++) {
        if (tasks[i].errfd != p[k].fd) continue;
        settle(i);
        break;
      }
    }
    if (p[1].revents) {
      if (cap - len < 4096) {
        cap *= 2;
        buf = realloc(buf, cap);
        if (!buf) return 2;
      }
      ssize_t n = read(0, buf + len, cap - len);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) inOpen = 0;
      if (n > 0) len += (size_t)n;
      /* every complete record */
      size_t off = 0;
      for (;;) {
        char *nl = memchr(buf + off, '\n', len - off);
        if (!nl) break;
        char *e;
        unsigned long size = strtoul(buf + off, &e, 10);
        if (e != nl || size > (64ul << 20)) return 3; /* not the launcher speaking: stop */
        size_t start = (size_t)(nl - buf) + 1;
        if (len - start < size) {
          while (cap - len < size) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) return 2;
          }
          break;
        }
        struct request r;
        if (parse(buf + start, size, &r) == 0) launch(&r);
        else emit("F %s spawn malformed request\n", r.id ? r.id : "0");
        freeRequest(&r);
        off = start + size;
      }
      memmove(buf, buf + off, len - off);
      len -= off;
    }
    flushOut();
  }
  flushOut();
  return 0;
}
