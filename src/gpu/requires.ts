// What a kernel variant needs of the device (features, workgroup geometry, workgroup memory),
// checked against a runtime's limits before a pipeline is built: by the kernels' guards (a
// clear error naming the op) and by the tuner (candidates this device cannot run are skipped).

export interface Requirements {
  /** Device features the shader uses ('shader-f16', 'subgroups', ...). */
  features?: readonly string[];
  /** @workgroup_size: invocations along x, y, z. */
  workgroupSize?: readonly number[];
  /** Bytes of var<workgroup> memory. */
  workgroupBytes?: number;
  /** Lanes every subgroup must have at least (a shader that hands values across that many lanes). */
  subgroupLanes?: number;
}

/** The part of a runtime requirements are checked against (a Runtime, or a fake in tests). */
export interface DeviceCaps {
  readonly limits: Pick<
    GPUSupportedLimits,
    | 'maxComputeInvocationsPerWorkgroup'
    | 'maxComputeWorkgroupStorageSize'
    | 'maxComputeWorkgroupSizeX'
    | 'maxComputeWorkgroupSizeY'
    | 'maxComputeWorkgroupSizeZ'
  >;
  readonly adapter: { readonly features: readonly string[]; readonly subgroupMinSize?: number };
}

/** Why the device cannot run a variant with these requirements, or null if it can. */
export function unmet(req: Requirements, caps: DeviceCaps): string | null {
  const l = caps.limits;
  for (const f of req.features ?? []) if (!caps.adapter.features.includes(f)) return `needs the device feature '${f}'`;
  if (req.subgroupLanes !== undefined && !((caps.adapter.subgroupMinSize ?? 0) >= req.subgroupLanes)) {
    return `needs subgroups of at least ${req.subgroupLanes} lanes; the device's smallest are ${caps.adapter.subgroupMinSize ?? 'unknown'}`;
  }
  const size = req.workgroupSize ?? [];
  const dimMax = [l.maxComputeWorkgroupSizeX, l.maxComputeWorkgroupSizeY, l.maxComputeWorkgroupSizeZ];
  for (let d = 0; d < size.length; d++) {
    if (size[d] > dimMax[d]) return `needs ${size[d]} invocations along ${'xyz'[d]}; the device allows ${dimMax[d]}`;
  }
  const invocations = size.reduce((a, b) => a * b, 1);
  if (invocations > l.maxComputeInvocationsPerWorkgroup) {
    return `needs ${invocations} invocations per workgroup (${size.join('×')}); the device allows ${l.maxComputeInvocationsPerWorkgroup}`;
  }
  const bytes = req.workgroupBytes ?? 0;
  if (bytes > l.maxComputeWorkgroupStorageSize) {
    return `needs ${bytes} bytes of workgroup memory; the device has ${l.maxComputeWorkgroupStorageSize}`;
  }
  return null;
}
