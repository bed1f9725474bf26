"""Write a fixture tree of a Strix Halo box's kernel and hardware files, for tests (there is no GPU here).

The tree is what strix.opencode.host_probe reads under its root: proc/sys/kernel/osrelease, proc/cmdline,
proc/modules, sys/module/<ttm|amdttm>/parameters, sys/class/drm/card1/device/mem_info_{gtt,vram}_{total,used},
dev/kfd and dev/dri/renderD128, etc/group and var/lib/dpkg/status.

    gpu_fixture.py ROOT --kernel 6.18.5-061805-generic --gtt-gib 124 --driver inbox --booted
    gpu_fixture.py ROOT --kernel 6.8.0-60-generic --gtt-gib 62 --driver dkms --cmdline-modules ttm

--booted puts the parameters for --gtt-gib on the command line (for the modules given by --cmdline-modules,
default: those of the driver) and in the modules' live parameters; without it the command line is a stock
one. As root the device nodes are made with mknod (group render); otherwise they are symbolic links to
/dev/null and the tree's etc/group names /dev/null's group render.
"""
import argparse
import os
import shutil

GIB = 1024 ** 3


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)


def build(root, kernel, gtt_gib, driver="inbox", booted=True, cmdline_modules=None, vram_mib=512,
          firmware="20260110.git0a1b2c3d-0ubuntu1", devices=True, iommu_off=True):
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    pages = int(gtt_gib * GIB) // 4096
    modules = ["amdgpu", "ttm"] + (["amdttm", "amdkcl"] if driver == "dkms" else [])
    cmdline = ["BOOT_IMAGE=/vmlinuz-%s" % kernel, "root=UUID=0f0e", "ro", "quiet", "splash"]
    if booted:
        if iommu_off:
            cmdline.append("amd_iommu=off")
        for module in cmdline_modules or (["amdttm", "ttm"] if driver == "dkms" else ["ttm"]):
            cmdline += ["%s.pages_limit=%d" % (module, pages), "%s.page_pool_size=%d" % (module, pages)]
    write(root, "proc/sys/kernel/osrelease", kernel + "\n")
    write(root, "proc/cmdline", " ".join(cmdline) + "\n")
    write(root, "proc/modules", "".join("%s 16384 0 - Live 0x0000000000000000\n" % m for m in modules))
    for module in ("ttm", "amdttm") if driver == "dkms" else ("ttm",):
        for name in ("pages_limit", "page_pool_size"):
            write(root, "sys/module/%s/parameters/%s" % (module, name), "%d\n" % pages)
    device = "sys/class/drm/card1/device/"
    write(root, device + "mem_info_gtt_total", "%d\n" % int(gtt_gib * GIB))
    write(root, device + "mem_info_vram_total", "%d\n" % (vram_mib * 1024 * 1024))
    # in use: what the node metrics read (a box with its tiers loaded)
    write(root, device + "mem_info_gtt_used", "%d\n" % (3 * GIB))
    write(root, device + "mem_info_vram_used", "%d\n" % (64 * 1024 * 1024))
    status = ["Package: linux-firmware\nStatus: install ok installed\nVersion: %s\n" % firmware]
    if driver == "dkms":
        status.append("Package: amdgpu-dkms\nStatus: install ok installed\nVersion: 1:6.16.6.60404-9999\n")
    write(root, "var/lib/dpkg/status", "\n".join(status))
    render_gid = 992
    if devices:
        os.makedirs(os.path.join(root, "dev/dri"))
        if os.geteuid() == 0:
            os.mknod(os.path.join(root, "dev/kfd"), 0o20660, os.makedev(238, 0))
            os.mknod(os.path.join(root, "dev/dri/renderD128"), 0o20660, os.makedev(226, 128))
            os.chown(os.path.join(root, "dev/kfd"), 0, render_gid)
            os.chown(os.path.join(root, "dev/dri/renderD128"), 0, render_gid)
        else:
            render_gid = os.stat("/dev/null").st_gid
            os.symlink("/dev/null", os.path.join(root, "dev/kfd"))
            os.symlink("/dev/null", os.path.join(root, "dev/dri/renderD128"))
    write(root, "etc/group", "video:x:44:\nrender:x:%d:\n" % render_gid)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("root")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--gtt-gib", type=float, required=True)
    parser.add_argument("--vram-mib", type=int, default=512)
    parser.add_argument("--driver", choices=["inbox", "dkms"], default="inbox")
    parser.add_argument("--booted", action="store_true")
    parser.add_argument("--cmdline-modules", nargs="*")
    parser.add_argument("--firmware", default="20260110.git0a1b2c3d-0ubuntu1")
    parser.add_argument("--no-devices", action="store_true", help="no /dev/kfd and no render node")
    args = parser.parse_args()
    build(args.root, args.kernel, args.gtt_gib, args.driver, args.booted, args.cmdline_modules, args.vram_mib,
          args.firmware, not args.no_devices)


if __name__ == "__main__":
    main()
