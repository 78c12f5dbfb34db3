import {
  Kind, OperationTypeNode, isAbstractType, print, visit,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type GraphQLSchema,
  type InlineFragmentNode, type SelectionNode, type SelectionSetNode, type VariableDefinitionNode,
} from 'graphql';

/**
 * Enrichment of change events with the subscriber's own selection on `entity`, through the federated graph.
 *
 * From the subscription operation, `entitySelection` takes what the subscriber selected on `ChangeEvent.entity`
 * (a union of Person, Place and Event) and splits it per concrete type. `buildEntityQuery` turns it into ONE
 * query for a whole batch of events, one aliased root field per entity:
 *
 *   query TonglanChangeEntities($n: Int) { e0: event(id: "…") { __typename …on Event {…} } e1: person(id: "…") {…} }
 *
 * The query runs through the gateway with the subscriber's identity, so masking and scope apply as for any
 * query. Named fragments the selection uses are carried along; so are the operation's variables it uses.
 */
export const ENTITY_ROOT_FIELDS: Record<string, string> = { Person: 'person', Place: 'place', Event: 'event' };

export interface EntitySelection {
  /** Per concrete type, the selections to ask for (inline fragments on that type). */
  byType: Map<string, readonly SelectionNode[]>;
  fragments: Record<string, FragmentDefinitionNode>;
  variableDefinitions: readonly VariableDefinitionNode[];
  variables: Record<string, unknown>;
  /** Stable text of the selection, for grouping subscribers who ask the same thing. */
  key: string;
}

export interface EntityRef {
  entityType: string;
  entityId: string;
}

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

function typeApplies(schema: GraphQLSchema, condition: string | undefined, unionName: string, concrete: string): boolean {
  if (!condition || condition === unionName || condition === concrete) return true;
  const type = schema.getType(condition);
  const target = schema.getType(concrete);
  return !!type && !!target && isAbstractType(type) && 'getFields' in target && schema.isSubType(type, target as never);
}

/** The selections under `entity` that apply to `concrete`, with spreads of the union level inlined. */
function selectionsFor(schema: GraphQLSchema, selections: readonly SelectionNode[], fragments: Record<string, FragmentDefinitionNode>,
  unionName: string, concrete: string): SelectionNode[] {
  const out: SelectionNode[] = [];
  for (const s of selections) {
    if (s.kind === Kind.FIELD) {
      out.push(s); // only __typename can be selected on a union
    } else {
      const condition = s.kind === Kind.INLINE_FRAGMENT ? s.typeCondition?.name.value : fragments[s.name.value]?.typeCondition.name.value;
      if (!typeApplies(schema, condition, unionName, concrete)) continue;
      const inner = s.kind === Kind.INLINE_FRAGMENT ? s.selectionSet : fragments[s.name.value]!.selectionSet;
      if (!condition || condition === unionName || isAbstractType(schema.getType(condition)!)) {
        out.push(...selectionsFor(schema, inner.selections, fragments, unionName, concrete));
      } else {
        const fragment: InlineFragmentNode = {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: concrete } },
          directives: s.directives ?? [],
          selectionSet: inner,
        };
        out.push(fragment);
      }
    }
  }
  return out;
}

/** What the subscriber selected on `entity` (every `entity` field of the operation, merged); null when none. */
export function entitySelection(info: GraphQLResolveInfo, unionName = 'ChangeEntity'): EntitySelection | null {
  const entityFields: FieldNode[] = [];
  const collect = (set: SelectionSetNode | undefined, seen: Set<string>) => {
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value === 'entity' && s.selectionSet) entityFields.push(s);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        collect(s.selectionSet, seen);
      } else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        collect(info.fragments[s.name.value]?.selectionSet, seen);
      }
    }
  };
  for (const node of info.fieldNodes) collect(node.selectionSet, new Set());
  if (entityFields.length === 0) return null;
  const all = entityFields.flatMap((f) => f.selectionSet!.selections);
  const byType = new Map<string, readonly SelectionNode[]>();
  for (const concrete of Object.keys(ENTITY_ROOT_FIELDS)) {
    if (!info.schema.getType(concrete)) continue;
    byType.set(concrete, selectionsFor(info.schema, all, info.fragments, unionName, concrete));
  }
  const variableDefinitions = info.operation.variableDefinitions ?? [];
  const variables = info.variableValues;
  const key = JSON.stringify([[...byType].map(([t, s]) => [t, s.map((n) => print(n))]),
    Object.values(info.fragments).map((f) => print(f)), variables]);
  return { byType, fragments: info.fragments, variableDefinitions, variables, key };
}

function withTypename(set: SelectionSetNode): SelectionSetNode {
  return { ...set, selections: [TYPENAME, ...set.selections] };
}

export interface EntityQuery {
  document: DocumentNode;
  /** The query's variables: the entity ids, and the subscriber's own variables it uses. */
  variables: Record<string, unknown>;
  /** `<EntityType>/<id>` → the response key holding that entity. */
  aliasOf: Map<string, string>;
}

const ENTITY_ORDER = ['Event', 'Person', 'Place'];

/**
 * One operation fetching every referenced entity with the subscriber's selection; null when nothing to fetch.
 * Ids are variables and each type's field count is rounded up to a power of two (padded with the last id),
 * so a handful of distinct operation texts recur and the gateway's parse/validation and query-plan caches
 * hit: planning a fresh federated operation per batch would cost more than the fetch.
 */
export function buildEntityQuery(selection: EntitySelection, refs: EntityRef[]): EntityQuery | null {
  const fields: FieldNode[] = [];
  const ids: Record<string, unknown> = {};
  const aliasOf = new Map<string, string>();
  const variableDefinitions: VariableDefinitionNode[] = [];
  for (const entityType of ENTITY_ORDER) {
    const root = ENTITY_ROOT_FIELDS[entityType];
    const selections = selection.byType.get(entityType);
    const wanted = [...new Set(refs.filter((r) => r.entityType === entityType).map((r) => r.entityId))];
    if (!root || !selections || wanted.length === 0) continue;
    const bucket = 2 ** Math.ceil(Math.log2(wanted.length));
    for (let i = 0; i < bucket; i++) {
      const alias = `${root}${i}`;
      const variable = `_tl_${alias}`;
      const id = wanted[Math.min(i, wanted.length - 1)]!;
      if (i < wanted.length) aliasOf.set(`${entityType}/${id}`, alias);
      ids[variable] = id;
      variableDefinitions.push({
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } },
        type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
      });
      fields.push({
        kind: Kind.FIELD,
        alias: { kind: Kind.NAME, value: alias },
        name: { kind: Kind.NAME, value: root },
        arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'id' }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variable } } }],
        selectionSet: { kind: Kind.SELECTION_SET, selections: [TYPENAME, ...selections] },
      });
    }
  }
  if (fields.length === 0) return null;
  // Every nested object also reports its __typename, so abstract types inside the entity resolve again
  // when the subscription re-executes the subscriber's selection over the fetched data.
  const operationSet = visit({ kind: Kind.SELECTION_SET, selections: fields } as SelectionSetNode, {
    Field: { leave: (node) => (node.selectionSet ? { ...node, selectionSet: withTypename(node.selectionSet) } : undefined) },
  });
  // Fragments and variables actually used (GraphQL rejects unused ones).
  const usedFragments = new Set<string>();
  const usedVariables = new Set<string>();
  const scan = (node: unknown) => visit(node as DocumentNode, {
    FragmentSpread: (n) => {
      if (!usedFragments.has(n.name.value) && selection.fragments[n.name.value]) {
        usedFragments.add(n.name.value);
        scan(selection.fragments[n.name.value]);
      }
    },
    Variable: (n) => {
      usedVariables.add(n.name.value);
    },
  });
  scan(operationSet);
  const fragmentDefinitions = [...usedFragments].map((name) => visit(selection.fragments[name]!, {
    Field: { leave: (node) => (node.selectionSet ? { ...node, selectionSet: withTypename(node.selectionSet) } : undefined) },
  }));
  const ownVariables = selection.variableDefinitions.filter((v) => usedVariables.has(v.variable.name.value));
  const variables: Record<string, unknown> = { ...ids };
  for (const v of ownVariables) {
    const name = v.variable.name.value;
    if (name in selection.variables) variables[name] = selection.variables[name];
  }
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        name: { kind: Kind.NAME, value: 'TonglanChangeEntities' },
        variableDefinitions: [...variableDefinitions, ...ownVariables],
        selectionSet: operationSet,
      },
      ...fragmentDefinitions,
    ],
  };
  return { document, variables, aliasOf };
}
