"""Plugin loading like sshd's StrictModes, through the real binary (issue 18): `paysync
test-plugin` and `paysync plugins` refuse a .so that anyone but root or the user could
replace, before dlopen (so its constructor never runs)."""
import os
import shutil

import pslib


def test_plugin_file(name):
    return os.path.join(pslib.TEST_PLUGIN_DIR, name + ".so")


class PluginTrust(pslib.Case):
    def setUp(self):
        super().setUp()
        if not pslib.TEST_PLUGIN_DIR:
            self.skipTest("PS_TEST_PLUGIN_DIR is not set")
        os.chmod(self.dir, 0o755)  # under /tmp (sticky): an accepted parent

    def folder(self, *parts, mode=0o755):
        p = self.path(*parts)
        os.makedirs(p)
        os.chmod(p, mode)
        return p

    def copy(self, name, folder):
        dst = os.path.join(folder, name + ".so")
        shutil.copyfile(test_plugin_file(name), dst)
        os.chmod(dst, 0o755)
        return dst

    def test_test_plugin_refuses_symlink_into_world_writable_folder(self):
        drop = self.folder("drop", mode=0o777)
        real = self.copy("good_provider", drop)
        link = os.path.join(self.folder("plugins"), "good_provider.so")
        os.symlink(real, link)
        res = pslib.run("test-plugin", link)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("load: FAIL %s (real path %s): refusing to load: its directory is "
                      "writable by group or others (mode 777); fix with: chmod go-w '%s'"
                      % (link, real, drop), res.out)
        os.chmod(drop, 0o755)
        res = pslib.run("test-plugin", link)
        self.assertNotIn("load: FAIL", res.out, res)
        self.assertIn("good_provider", res.out, res)

    def test_plugins_refuses_world_writable_parent_and_constructor_never_runs(self):
        top = self.folder("top", mode=0o777)
        plugins = self.folder("top", "plugins")
        self.copy("ctor_marker", plugins)
        marker = self.path("constructor-ran")
        env = {"PAYSYNC_PLUGIN_PATH": plugins, "PS_CTOR_MARKER": marker}
        res = pslib.run("plugins", env=env)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("refusing to load: the directory above it is writable by group or "
                      "others (mode 777); fix with: chmod go-w '%s'" % top, res.out + res.err)
        self.assertFalse(os.path.exists(marker), "a refused plugin's constructor ran")
        # trusted: the constructor runs at dlopen (the file then fails: no entry function)
        os.chmod(top, 0o1777)
        res = pslib.run("plugins", env=env)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("no entry function", res.out + res.err)
        self.assertTrue(os.path.exists(marker), "the marker plugin's constructor did not run")

    def test_plugins_refuses_folder_owned_by_another_user(self):
        if os.geteuid() != 0:
            self.skipTest("chown to uid 65534 needs root (CI runs as root)")
        plugins = self.folder("plugins")
        self.copy("good_provider", plugins)
        env = {"PAYSYNC_PLUGIN_PATH": plugins}
        res = pslib.run("plugins", env=env)
        self.assertIn("good_provider", res.out, res)
        self.assertNotIn("refusing", res.out + res.err, res)
        os.chown(plugins, 65534, 65534)
        res = pslib.run("plugins", env=env)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("refusing to load: its directory is owned by uid 65534 (mode 755), "
                      "neither you nor root; fix with: chown root '%s'" % plugins,
                      res.out + res.err)


if __name__ == "__main__":
    pslib.main()
