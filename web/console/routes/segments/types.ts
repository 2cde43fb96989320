// The segments area's types, from the typed client (generated from the API's schemas).
import type { operations } from '@jifen/client';

type Json<O extends keyof operations, S extends number> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer T } }> ? T : never;

export type Segment = Json<'getSegment', 200>;
export type SegmentMember = Json<'listSegmentMembers', 200>['data'][number];
export type SegmentPreview = Json<'previewSegment', 200>;
export type SegmentRefresh = Json<'refreshSegment', 200>;
export type MemberSegment = Json<'listMemberSegments', 200>['data'][number];

/** The segment's name in the viewer's language (the other one when it is empty). */
export function nameOf(segment: { name: { 'zh-CN': string; en: string } }, locale: string): string {
  return (locale === 'en' ? segment.name.en : segment.name['zh-CN']) || segment.name['zh-CN'] || segment.name.en;
}
