-- Browsers an account signed in from and has not come back with for a long while are
-- forgotten (the purge): the next sign-in from one counts as a new browser again.
CREATE INDEX known_devices_last_seen ON known_devices (last_seen);
