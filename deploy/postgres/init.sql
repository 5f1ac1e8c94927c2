-- One database per service, each owned by its own role. Passwords are set from the
-- environment by init-roles.sh; nothing secret lives in this file.
CREATE ROLE registry LOGIN;
CREATE ROLE programs LOGIN;
CREATE ROLE monitoring LOGIN;
CREATE ROLE notifications LOGIN;
CREATE DATABASE registry OWNER registry;
CREATE DATABASE programs OWNER programs;
CREATE DATABASE monitoring OWNER monitoring;
CREATE DATABASE notifications OWNER notifications;
