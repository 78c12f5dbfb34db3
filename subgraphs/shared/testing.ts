import { encodeIdentity, IDENTITY_HEADER, type Identity } from '../../security/identity';
import { DEV_INTERNAL_KEY } from '../../security/keys';

/** Helpers for subgraph tests: identities and signed GraphQL POSTs straight to a subgraph. */
export const TEST_CONFIG = Object.freeze({ SECRET_KEY: '', NODE_ENV: 'test' as const });

export function identityOf(partial: Partial<Identity> & Pick<Identity, 'role'>): Identity {
  return { sub: `test-${partial.role}`, grids: [], districts: [], scopes: [], ...partial };
}

export interface GraphQLResponse<T = any> { status: number; data?: T; errors?: { message: string; extensions?: { code?: string } }[] }

export async function postGraphQL<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, identity: Identity | null = null): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (identity) headers[IDENTITY_HEADER] = encodeIdentity(identity, DEV_INTERNAL_KEY);
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: GraphQLResponse['errors'] };
  return { status: res.status, ...body };
}
