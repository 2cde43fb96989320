// A member in a table of the rewards pages (the orders, a lottery's draws): the name over the
// external id (a member without a name: the external id alone), linking to the member's page.
import { Typography } from 'antd';
import type { MouseEvent } from 'react';
import { Link } from 'react-router';

export function MemberCell({
  programId,
  memberId,
  member,
  onClick,
}: {
  programId: string;
  memberId: string;
  member: { name: string | null; external_id: string };
  onClick?: (e: MouseEvent) => void;
}) {
  return (
    <Link to={`/${programId}/members/${memberId}`} onClick={onClick}>
      {member.name ?? member.external_id}
      {member.name ? (
        <Typography.Text type="secondary" style={{ display: 'block', fontSize: 12 }}>
          {member.external_id}
        </Typography.Text>
      ) : null}
    </Link>
  );
}
