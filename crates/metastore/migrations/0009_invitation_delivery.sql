-- Whether the invitation's token was e-mailed to the invitee (so only they hold it and it proves
-- the address) or handed to the inviter (so accepting needs the invitee signed in).
ALTER TABLE invitations ADD COLUMN emailed BOOLEAN NOT NULL DEFAULT FALSE;
