# busybox's file applets on a writable tree.
d=/tmp/outside.$$; rm -rf $d; mkdir -p $d/a/b/c && cd $d || exit 1
echo hello > a/f1; printf 'line2\nline1\n' > a/f2
touch a/b/empty; ln -s ../f1 a/b/link
ls a a/b; cat a/b/link; readlink a/b/link
stat -c '%n %s %F %a' a/f1 a/b/link a/b/empty; stat -c '%n %F %a' a/b
cp a/f1 a/copy; mv a/copy a/moved; ls a
sort -o a/sorted a/f2; cat a/sorted
find . -name 'f*' | sort
wc -c a/f1; du -s a >/dev/null && echo du ok
tar cf t.tar a && mkdir x && tar xf t.tar -C x && ls x/a
gzip -c a/f2 > f2.gz && gzip -dc f2.gz
rm -r a/b; ls a; rmdir a/b 2>/dev/null || echo "rmdir of a gone dir fails"
cd / && rm -rf $d && echo cleaned
