/*
 * xattr.c - extended attributes on a file system that stores none (as
 * Debian's coreutils meet them: `ls -l` asks lgetxattr for an ACL or a
 * security label on every file, `cp -a` lists them). Linux's answers:
 * an attribute a file does not have is ENODATA, a name in no known
 * namespace EOPNOTSUPP, the list is empty; the path is looked up first
 * (ENOENT), the name checked (empty or over 255 bytes: ERANGE), bad
 * pointers EFAULT, a bad descriptor EBADF.
 *
 * Runs on the file the test runner names (argv[1]): on Linux a file of
 * the host's file system, on Mercator one of its tmpfs root.
 */
#include "utest.h"

#include <fcntl.h>
#include <sys/xattr.h>

int main(int argc, char **argv)
{
        const char *path = argc > 1 ? argv[1] : "/data.txt";
        char buf[256], longname[300];
        int fd;

        utest_start("xattr");
        errno = 0;
        CHECK_ERR("get_absent_user_attr",
                  getxattr(path, "user.mercator.absent", buf, sizeof buf), ENODATA);
        CHECK_ERR("lget_absent_acl",
                  lgetxattr(path, "system.posix_acl_access", buf, sizeof buf),
                  ENODATA);
        CHECK_ERR("get_size_probe_absent",
                  getxattr(path, "trusted.mercator", NULL, 0), ENODATA);
        CHECK_ERR("get_unknown_namespace",
                  getxattr(path, "nonsense.name", buf, sizeof buf), EOPNOTSUPP);
        CHECK_ERR("get_no_prefix",
                  getxattr(path, "user", buf, sizeof buf), EOPNOTSUPP);
        CHECK_ERR("get_missing_file",
                  getxattr("/nonexistent-mercator", "user.x", buf, sizeof buf),
                  ENOENT);
        CHECK_ERR("get_empty_name", getxattr(path, "", buf, sizeof buf), ERANGE);
        memset(longname, 'a', sizeof longname - 1);
        memcpy(longname, "user.", 5);
        longname[sizeof longname - 1] = 0;
        CHECK_ERR("get_long_name",
                  getxattr(path, longname, buf, sizeof buf), ERANGE);
        CHECK_ERR("get_bad_name_pointer",
                  getxattr(path, (const char *)8, buf, sizeof buf), EFAULT);
        CHECK_ERR("get_bad_path_pointer",
                  getxattr((const char *)8, "user.x", buf, sizeof buf), EFAULT);
        CHECK("list_is_empty", listxattr(path, buf, sizeof buf) == 0);
        CHECK("llist_size_probe_is_0", llistxattr(path, NULL, 0) == 0);
        CHECK_ERR("list_missing_file",
                  listxattr("/nonexistent-mercator", buf, sizeof buf), ENOENT);
        fd = open(path, O_RDONLY);
        CHECK("open", fd >= 0);
        CHECK_ERR("fget_absent",
                  fgetxattr(fd, "user.mercator.absent", buf, sizeof buf), ENODATA);
        CHECK("flist_is_empty", flistxattr(fd, buf, sizeof buf) == 0);
        CHECK_ERR("fget_bad_fd", fgetxattr(-1, "user.x", buf, sizeof buf), EBADF);
        CHECK_ERR("flist_bad_fd", flistxattr(-1, buf, sizeof buf), EBADF);
        CHECK_ERR("fremove_absent", fremovexattr(fd, "user.mercator.absent"),
                  ENODATA);
        close(fd);
        return utest_done();
}
