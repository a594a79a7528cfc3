// Linux calls that Swift's Glibc module does not import (they need _GNU_SOURCE or are raw syscalls).
#ifndef CSANDBOX_SUPPORT_H
#define CSANDBOX_SUPPORT_H

#include <spawn.h>
#include <stdint.h>

/// pipe2(2) with O_CLOEXEC on both ends.
int rlm_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+).
int rlm_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child closes every descriptor >= `from` before exec.
/// Returns ENOSYS where the C library lacks it.
int rlm_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// openat2(2); returns -1 with errno set (ENOSYS on kernels before 5.6).
int rlm_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

/// mount(2) of a tmpfs at `target` with `options` (e.g. "size=1048576,mode=0700"), not setuid, no device files.
int rlm_mount_tmpfs(const char *target, const char *options);

/// umount2(2) with MNT_DETACH: the mount goes at once, its pages once nothing uses them any more.
int rlm_unmount_detached(const char *target);

#endif
