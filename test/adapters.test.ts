// Which adapter Node asks for (env.planAdapters, pure) and what each CPU driver on this machine
// gives (createNodeRuntime with PROTT5_ADAPTER's modes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { icdDirs, icdKind, llvmpipeUsable, planAdapters, readSettings, type AdapterProbe, type IcdManifest } from '../src/gpu/env.js';
import { createNodeRuntime } from '../src/gpu/node-gpu.js';
import { DeviceError } from '../src/errors.js';

const m = (path: string, libraryPath: string, apiVersion: string): IcdManifest => ({ path, libraryPath, apiVersion });
const NVIDIA = m('/usr/share/vulkan/icd.d/nvidia_icd.json', 'libGLX_nvidia.so.0', '1.3.277');
const RADEON = m('/usr/share/vulkan/icd.d/radeon_icd.x86_64.json', '/usr/lib/x86_64-linux-gnu/libvulkan_radeon.so', '1.3.230');
const OLD_LVP = m('/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so', '1.1.230');
const NEW_LVP = m('/usr/share/vulkan/icd.d/lvp_icd.json', 'libvulkan_lvp.so', '1.4.305');
const SWIFT = '/usr/lib/chromium/vk_swiftshader_icd.json';
const probe = (p: Partial<AdapterProbe>): AdapterProbe => ({ platform: 'linux', mode: 'auto', manifests: [], gpuNode: false, swiftshader: SWIFT, ...p });
const kinds = (p: AdapterProbe) => planAdapters(p).map((a) => `${a.kind}:${a.vars.VK_ICD_FILENAMES ?? '(own env)'}`);

test('manifests: kind by name or library; lavapipe usable from Vulkan 1.3 (Mesa 24+), never Debian 12\'s 22.3', () => {
  assert.is(icdKind(NVIDIA), 'hardware');
  assert.is(icdKind(RADEON), 'hardware');
  assert.is(icdKind(OLD_LVP), 'llvmpipe');
  assert.is(icdKind(m('/opt/x/custom.json', '/opt/x/libvulkan_lvp.so', '1.4.0')), 'llvmpipe');
  assert.is(icdKind(m(SWIFT, './libvk_swiftshader.so', '1.0.5')), 'swiftshader');
  assert.not.ok(llvmpipeUsable(OLD_LVP));
  assert.ok(llvmpipeUsable(NEW_LVP));
  assert.ok(llvmpipeUsable(m('a', 'b', '1.3.274')));
  assert.not.ok(llvmpipeUsable(m('a', 'b', '')));
  assert.equal(icdDirs({ HOME: '/h' }).slice(0, 3), ['/h/.config/vulkan/icd.d', '/etc/xdg/vulkan/icd.d', '/etc/vulkan/icd.d']);
  assert.ok(icdDirs({ HOME: '/h' }).includes('/usr/share/vulkan/icd.d'));
});

test('auto: a GPU (only with a device node), then llvmpipe, then SwiftShader; the old lavapipe is never asked', () => {
  const all = [RADEON, OLD_LVP, NEW_LVP];
  assert.equal(kinds(probe({ manifests: all, gpuNode: true })), [`hardware:${RADEON.path}`, `llvmpipe:${NEW_LVP.path}`, `swiftshader:${SWIFT}`]);
  // Mesa's GPU drivers are installed on machines with no GPU: without /dev/dri they are not asked (they would only print).
  assert.equal(kinds(probe({ manifests: all })), [`llvmpipe:${NEW_LVP.path}`, `swiftshader:${SWIFT}`]);
  assert.equal(kinds(probe({ manifests: [RADEON, OLD_LVP] })), [`swiftshader:${SWIFT}`]);
  assert.equal(kinds(probe({ manifests: [NVIDIA, RADEON], gpuNode: true })), [`hardware:${NVIDIA.path}:${RADEON.path}`, `swiftshader:${SWIFT}`]);
  assert.equal(kinds(probe({ manifests: [OLD_LVP], swiftshader: null })), []);
  const [gpu] = planAdapters(probe({ manifests: all, gpuNode: true }));
  assert.ok(gpu.strict, 'a GPU request that yields a CPU driver is not taken as the GPU');
  assert.ok('VK_DRIVER_FILES' in gpu.vars && gpu.vars.VK_DRIVER_FILES === undefined, 'the other loader variable is unset for the request');
  assert.match(planAdapters(probe({ manifests: all }))[0].reason, /faster CPU driver/);
  assert.match(planAdapters(probe({ manifests: [OLD_LVP] }))[0].reason, /no llvmpipe recent enough/);
  // Not Linux (Metal, D3D12): the system's own adapter.
  assert.equal(kinds(probe({ platform: 'darwin', swiftshader: null })), ['hardware:(own env)']);
});

test('a forced mode asks for that one only; the user\'s VK_ICD_FILENAMES is used as it is', () => {
  const all = [RADEON, NEW_LVP];
  assert.equal(kinds(probe({ mode: 'llvmpipe', manifests: all, gpuNode: true })), [`llvmpipe:${NEW_LVP.path}`]);
  assert.equal(kinds(probe({ mode: 'swiftshader', manifests: all, gpuNode: true })), [`swiftshader:${SWIFT}`]);
  assert.equal(kinds(probe({ mode: 'hardware', manifests: all, gpuNode: true })), [`hardware:${RADEON.path}`]);
  assert.equal(kinds(probe({ mode: 'hardware', manifests: all })), []);
  assert.equal(kinds(probe({ userIcds: '/my/icd.json', manifests: all, gpuNode: true })), ['hardware:(own env)']);
  assert.match(planAdapters(probe({ userIcds: '/my/icd.json' }))[0].reason, /VK_ICD_FILENAMES.*\/my\/icd\.json/);
  for (const mode of ['auto', 'hardware', 'llvmpipe', 'swiftshader'] as const) assert.is(readSettings({ PROTT5_ADAPTER: mode }).adapter, mode);
  assert.is(readSettings({ PROTT5_ADAPTER: 'lavapipe?' }).adapter, 'auto');
  assert.is(readSettings({ PROTT5_DRIVER_LOG: '1' }).driverLog, true);
  assert.is(readSettings({}).driverLog, false);
});

test('each CPU driver present gives a device of its kind; one that is absent is a DeviceError saying what to install', async () => {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return; // a driver list the user set applies to every request
  const seen: string[] = [];
  for (const mode of ['llvmpipe', 'swiftshader'] as const) {
    try {
      const rt = await createNodeRuntime({ adapter: mode });
      assert.is(rt.adapter.kind, mode, `${mode}: ${rt.adapter.description}`);
      assert.match(rt.adapter.reason, new RegExp(`PROTT5_ADAPTER=${mode}`));
      seen.push(`${mode}: ${rt.adapter.description}`);
      rt.destroy();
    } catch (e) {
      assert.instance(e, DeviceError);
      assert.match((e as Error).message, new RegExp(`no ${mode} adapter .*npm run setup`));
      seen.push(`${mode}: absent`);
    }
  }
  // CI's setup installs SwiftShader always.
  if (existsSync(SWIFT)) assert.ok(seen.some((s) => s.startsWith('swiftshader: ') && !s.endsWith('absent')), seen.join('; '));
  const rt = await createNodeRuntime();
  console.log(`   adapters: ${seen.join('; ')}; auto chose ${rt.adapter.kind} (${rt.adapter.reason})`);
  rt.destroy();
});

test.run();
