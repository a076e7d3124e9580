/** What each layer needs to know about a method path (`/package.Service/Method`). */
export type MethodAccess = 'open' | 'authenticated' | 'policy';

const HEALTH = '/grpc.health.v1.Health/';
const REFLECTION = /^\/grpc\.reflection\.v1(alpha)?\.ServerReflection\//;

/**
 * Health is always open (load balancers and kubelets probe without credentials);
 * reflection follows REFLECTION; everything else is decided by the policy.
 */
export function accessOf(path: string, reflection: 'open' | 'authenticated' | 'off'): MethodAccess {
  if (path.startsWith(HEALTH)) return 'open';
  if (REFLECTION.test(path)) return reflection === 'open' ? 'open' : 'authenticated';
  return 'policy';
}
